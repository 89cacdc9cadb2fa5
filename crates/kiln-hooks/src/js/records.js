// Records as hooks see them (`Record`), and the record hooks: the request hooks around a records
// API write, the model hooks Kiln calls inside the write's transaction, the after-success ones.
(() => {
  'use strict';
  const native = globalThis.__kiln;
  const js = native.js;

  // Collections by id, kept while their version (`updated`) holds.
  const collections = new Map();
  const byKey = (id, key) => {
    const hit = collections.get(id);
    if (hit && hit.updated === key) return hit;
    return js.collection(id);
  };
  js.collection = (nameOrId) => {
    const raw = native.collection(String(nameOrId));
    if (raw == null) return null;
    const c = Object.freeze(JSON.parse(raw));
    collections.set(c.id, c);
    return c;
  };

  const SECRET = new Set(['password', 'tokenKey']);

  class Record {
    // `new Record(collection, data)`, as PocketBase's: a new record of the collection.
    constructor(collection, data) {
      const c = typeof collection === 'string' ? js.collection(collection) : collection;
      if (!c || !c.id) throw new Error('new Record(collection): a collection (from $app.findCollectionByNameOrId)');
      this._c = c;
      this._d = { collectionId: c.id, collectionName: c.name };
      for (const f of c.fields ?? []) this._d[f.name] = null;
      this._changed = new Set();
      this._new = true;
      this._orig = null;
      if (data) this.load(data);
    }
    get id() { return this._d.id ?? ''; }
    set id(v) { this.set('id', v); }
    collection() { return this._c; }
    tableName() { return this._c.name; }
    isNew() { return this._new; }
    markAsNew() { this._new = true; }
    markAsNotNew() { this._new = false; }
    get(name) { return this._d[name] ?? null; }
    getRaw(name) { return this._d[name] ?? null; }
    set(name, value) {
      this._d[name] = value;
      this._changed.add(name);
    }
    load(data) {
      for (const [k, v] of Object.entries(data ?? {})) this.set(k, v);
    }
    getString(name) { const v = this._d[name]; return v == null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v); }
    getInt(name) { return Math.trunc(Number(this._d[name]) || 0); }
    getFloat(name) { return Number(this._d[name]) || 0; }
    getBool(name) { const v = this._d[name]; return v === true || v === 1 || v === 'true' || v === '1'; }
    getStringSlice(name) { const v = this._d[name]; return v == null || v === '' ? [] : Array.isArray(v) ? v.map(String) : [String(v)]; }
    getDateTime(name) { return this.getString(name); }
    email() { return this.getString('email'); }
    setEmail(v) { this.set('email', v); }
    verified() { return this.getBool('verified'); }
    setVerified(v) { this.set('verified', !!v); }
    emailVisibility() { return this.getBool('emailVisibility'); }
    setEmailVisibility(v) { this.set('emailVisibility', !!v); }
    setPassword(v) { this.set('password', String(v)); }
    // the expanded relations ($app.expandRecord), as records
    expand() { return { ...(this._d.expand ?? {}) }; }
    setExpand(m) { this._d.expand = { ...(m ?? {}) }; }
    mergeExpand(m) { this._d.expand = { ...(this._d.expand ?? {}), ...(m ?? {}) }; }
    expandedOne(name) {
      const v = this._d.expand?.[name];
      const one = Array.isArray(v) ? v[0] : v;
      return one && typeof one === 'object' ? js.recordOf(one) : null;
    }
    expandedAll(name) {
      const v = this._d.expand?.[name];
      return (Array.isArray(v) ? v : v ? [v] : []).filter((x) => x && typeof x === 'object').map((x) => js.recordOf(x));
    }
    // what the API shows of it (onRecordEnrich): fields hidden or shown, custom keys allowed
    hide(...names) { for (const n of names.flat()) { (this._hidden ??= new Set()).add(n); this._unhidden?.delete(n); } return this; }
    unhide(...names) { for (const n of names.flat()) { (this._unhidden ??= new Set()).add(n); this._hidden?.delete(n); } return this; }
    withCustomData(on) { this._custom = !!on; return this; }
    ignoreEmailVisibility(on) { this._anyEmail = !!on; return this; }
    isSuperuser() { return this._c.name === '_superusers'; }
    original() { return this._orig ? js.recordOf(this._orig, this._c) : new Record(this._c); }
    clone() { const r = js.recordOf({ ...this._d }, this._c); r._new = this._new; return r; }
    fresh() { return this.clone(); }
    // What the API shows a guest: every field but hidden ones, the email only when visible.
    publicExport() {
      const out = {};
      const hidden = new Set((this._c.fields ?? []).filter((f) => f.hidden).map((f) => f.name));
      const hideEmail = this._c.type === 'auth' && !this.getBool('emailVisibility');
      for (const k of Object.keys(this._d).sort()) {
        if (hidden.has(k) || SECRET.has(k) || (hideEmail && k === 'email')) continue;
        out[k] = this._d[k];
      }
      // expanded records are shown as a guest would see each of them
      if (out.expand && typeof out.expand === 'object') {
        const shown = (x) => (x && typeof x === 'object' && x.collectionId ? js.recordOf(x).publicExport() : x);
        out.expand = Object.fromEntries(Object.entries(out.expand).map(([k, v]) => [k, Array.isArray(v) ? v.map(shown) : shown(v)]));
      }
      return out;
    }
    toJSON() { return this.publicExport(); }
    // the changes of an answer's record (see kiln-hooks/src/read.rs)
    _patch() {
      const fields = new Set((this._c.fields ?? []).map((f) => f.name));
      const set = {};
      for (const k of this._changed) if (!this._hidden?.has(k) && (fields.has(k) || this._custom)) set[k] = this._d[k] ?? null;
      for (const k of this._unhidden ?? []) set[k] = this._d[k] ?? null;
      if (this._anyEmail && 'email' in this._d) set.email = this._d.email;
      return { id: this.id, hide: [...(this._hidden ?? [])], set };
    }
    // the values hooks set, for Kiln to write
    _changes() { return Object.fromEntries([...this._changed].map((k) => [k, this._d[k]])); }
    // the record as Kiln stored it
    _reset(data) {
      this._orig = data;
      this._d = { ...data };
      this._changed = new Set();
      this._new = false;
    }
  }
  globalThis.Record = Record;

  // A stored record (`data`: every field) as a Record.
  js.recordOf = (data, collection) => {
    const c = collection ?? byKey(data.collectionId, undefined) ?? { id: data.collectionId, name: data.collectionName, fields: [] };
    const r = Object.create(Record.prototype);
    r._c = c;
    r._d = { ...data };
    r._changed = new Set();
    r._new = false;
    r._orig = data; // never changed: `original()` copies it
    return r;
  };
  // A record Kiln handed over (`{full, collection: {id, key}}`).
  js.fromPayload = (p) => {
    const r = js.recordOf(p.full, byKey(p.collection.id, p.collection.key));
    if (p.original) r._orig = p.original;
    return r;
  };

  // onRecordCreate((e) => …, "posts", …) and the rest: the handler and the collections it is for
  // (names or ids; none: all).
  const NAMES = [
    'onRecordAuthRequest', 'onRecordViewRequest', 'onRecordsListRequest', 'onRecordEnrich',
    'onRecordCreateRequest', 'onRecordUpdateRequest', 'onRecordDeleteRequest',
    'onRecordCreate', 'onRecordUpdate', 'onRecordDelete', 'onRecordValidate',
    'onRecordAfterCreateSuccess', 'onRecordAfterUpdateSuccess', 'onRecordAfterDeleteSuccess',
    // the account flows' request hooks (native.aroundRequest)
    'onRecordAuthWithPasswordRequest', 'onRecordAuthRefreshRequest', 'onRecordAuthWithOTPRequest',
    'onRecordAuthWithOAuth2Request', 'onRecordRequestOTPRequest', 'onRecordRequestPasswordResetRequest',
    'onRecordConfirmPasswordResetRequest', 'onRecordRequestVerificationRequest',
    'onRecordConfirmVerificationRequest', 'onRecordRequestEmailChangeRequest',
    'onRecordConfirmEmailChangeRequest',
  ];
  // hook(handler, ...tags) for each of `names` (the tags: collection names or ids)
  js.register = (names) => {
    for (const name of names) {
      globalThis[name] = (fn, ...tags) => {
        if (typeof fn !== 'function') throw new TypeError(`${name}(handler, ...tags): handler is a function`);
        js.hooks.push({ name, tags: tags.flat().map(String), fn });
      };
    }
  };
  js.register(NAMES);
  // the handlers of hook `name` for collection `c` (none: the untagged ones)
  const handlers = (js.handlers = (name, c) =>
    js.hooks.filter((h) => h.name === name && (h.tags.length === 0 || (c && (h.tags.includes(c.name) || h.tags.includes(c.id))))).map((h) => h.fn));

  // "" when the chain ended well, else the error as JSON.
  const settle = (js.settle = (run) => {
    try {
      run();
      return '';
    } catch (err) {
      return JSON.stringify(js.errorJSON(err));
    }
  });

  // Called by Kiln inside a write's transaction: the model hooks around it. Their last e.next()
  // has Kiln validate and write the record.
  native.recordHook = (name, raw) => {
    const record = js.fromPayload(JSON.parse(raw));
    if (name === 'onRecordCreate') record._new = true;
    const e = { app: globalThis.$app, record, collection: record.collection(), type: name };
    return settle(() =>
      js.chain(e, handlers(name, e.collection), () => {
        // onRecordValidate before Kiln validates the record (its last e.next() goes on to that)
        if (name !== 'onRecordDelete') {
          const v = { app: e.app, record: e.record, collection: e.collection, type: 'onRecordValidate' };
          js.chain(v, handlers('onRecordValidate', e.collection), () => {});
        }
        e.record._reset(js.call(native.writeNext(JSON.stringify(e.record._changes()))).full);
      }),
    );
  };

  // Called by Kiln once a write committed.
  native.afterHook = (name, raw) => {
    const record = js.fromPayload(JSON.parse(raw));
    const e = { app: globalThis.$app, record, collection: record.collection(), type: name };
    return settle(() => js.chain(e, handlers(name, e.collection), () => {}));
  };

  // onRecordEnrich for the records of an answer to request event `e`, as PocketBase chains them:
  // the last handler's e.next() of one record goes on to the next record, and once all are done
  // a superuser sees every field again (whatever a hook hid). The event holds the request info
  // itself, not a function.
  const enrich = (records, e) => {
    if (!records.some((r) => handlers('onRecordEnrich', r.collection()).length)) return;
    const requestInfo = e.requestInfo();
    let i = 0;
    const step = () => {
      if (i < records.length) {
        const record = records[i++];
        const c = record.collection();
        return js.chain({ app: globalThis.$app, record, requestInfo, collection: c }, handlers('onRecordEnrich', c), step);
      }
      if (requestInfo.auth?.isSuperuser()) {
        for (const r of records) for (const f of r.collection().fields ?? []) r._hidden?.delete(f.name);
      }
    };
    step();
  };

  // Called by Kiln for a records API read: the request hooks, then onRecordEnrich for each record
  // shown. Answers {response} when a hook answered, {error} when one failed, else {patches}.
  native.readRequest = (name, payloads, rawReq) => {
    const req = JSON.parse(rawReq);
    const collection = byKey(req.collection.id, req.collection.key);
    const records = JSON.parse(payloads).map((p) => {
      const r = js.recordOf(p.full, collection);
      r._changed = new Set();
      return r;
    });
    const { e, result } = js.event(req);
    e.collection = collection;
    if (name === 'onRecordViewRequest') e.record = records[0];
    else {
      e.records = records;
      e.result = { ...req.result, items: records };
    }
    let shown = false;
    const failed = settle(() =>
      js.chain(e, handlers(name, collection), () => {
        shown = true;
        enrich(e.record ? [e.record] : e.records, e);
      }),
    );
    if (failed) return JSON.stringify({ error: JSON.parse(failed) });
    const res = result();
    // a hook that neither answered nor let the request go on: an empty answer, as PocketBase's
    if (!shown) return JSON.stringify({ response: res ?? { status: 200, type: '', body: '' } });
    return JSON.stringify({ patches: (e.record ? [e.record] : e.records).map((r) => r._patch()) });
  };

  // Called by Kiln around an account flow (the request hook `name`): its last e.next() runs the
  // flow, whose answer then stands. {response} when a hook answered instead, {error} when the
  // chain failed before the flow ran, else {}.
  native.aroundRequest = (name, rawReq, rawEvent) => {
    const ev = JSON.parse(rawEvent);
    const { e, result } = js.event(JSON.parse(rawReq));
    e.collection = ev.collection ? byKey(ev.collection.id, ev.collection.key) : undefined;
    e.record = ev.record ? js.recordOf(ev.record.full, e.collection) : null;
    // a collections API request: its model and after-success hooks run around the write here
    const { __model: model, __after: afterSuccess, ...fields } = ev.fields ?? {};
    for (const [k, v] of Object.entries(fields)) {
      e[k] = k === 'client' ? js.client(v) : k === 'collection' ? new js.Collection(v) : v && typeof v === 'object' && v.collectionId && v.id ? js.recordOf(v) : v;
    }
    let passed = false;
    const failed = settle(() =>
      js.chain(e, handlers(name, e.collection), () => {
        const write = () => {
          passed = true;
          // the flow goes on with the event's fields as the hooks left them
          const now = Object.fromEntries(Object.keys(fields).map((k) => [k, e[k] instanceof Record ? e[k]._d : e[k]]));
          const after = js.call(native.middlewareNext(JSON.stringify(now)));
          if (after?.error) {
            // the flow failed: e.next() throws its error, as PocketBase's returns it
            const err = new ApiError(after.error.status, after.error.message);
            err.data = after.error.data ?? {};
            throw err;
          }
          if (after?.record && e.record) e.record._reset(after.record);
          if (after?.collection) e.collection = new js.Collection(after.collection);
          return after;
        };
        if (!model) return write();
        const m = { app: e.app, collection: e.collection, type: model };
        js.chain(m, handlers(model, m.collection), () => {
          e.collection = m.collection;
          const after = write();
          m.collection = e.collection;
          if (after?.ok && afterSuccess) js.chain({ app: e.app, collection: e.collection, type: afterSuccess }, handlers(afterSuccess, e.collection), () => {});
        });
      }),
    );
    if (passed) return '{}';
    if (failed) return JSON.stringify({ error: JSON.parse(failed) });
    return JSON.stringify({ response: result() ?? { status: 200, type: '', body: '' } });
  };

  // Called by Kiln before it answers a sign-in: onRecordAuthRequest, whose last e.next() lets Kiln
  // answer (with e.token and e.meta as the hooks left them, the record enriched).
  native.authRequest = (payload, rawReq) => {
    const req = JSON.parse(rawReq);
    const record = js.fromPayload(JSON.parse(payload));
    const { e, result } = js.event(req);
    e.record = record;
    e.collection = record.collection();
    e.token = req.token;
    e.meta = req.meta;
    e.authMethod = req.authMethod;
    let shown = false;
    let patch = null;
    const failed = settle(() =>
      js.chain(e, handlers('onRecordAuthRequest', e.collection), () => {
        shown = true;
        if (handlers('onRecordEnrich', e.collection).length) {
          // the record is enriched as seen by itself
          enrich([e.record], { requestInfo: () => ({ ...e.requestInfo(), auth: e.record }) });
          patch = e.record._patch();
        }
      }),
    );
    if (failed) return JSON.stringify({ error: JSON.parse(failed) });
    if (!shown) return JSON.stringify({ response: result() ?? { status: 200, type: '', body: '' } });
    return JSON.stringify({ token: String(e.token ?? ''), meta: e.meta ?? null, patch });
  };

  // Called by Kiln for a records API write: the request hooks; their last e.next() is the write.
  // Answers {response} when a hook answered, {error} when the chain failed, else "".
  native.recordRequest = (name, payload, rawReq) => {
    const record = js.fromPayload(JSON.parse(payload));
    if (name === 'onRecordCreateRequest') record._new = true;
    const { e, result } = js.event(JSON.parse(rawReq));
    e.record = record;
    e.collection = record.collection();
    let patch = null;
    const failed = settle(() =>
      js.chain(e, handlers(name, e.collection), () => {
        const saved = js.call(native.requestNext(JSON.stringify(e.record._changes())));
        if (saved) e.record._reset(saved.full);
        // the answer shows the record written as enriched (not a deleted one)
        if (saved && name !== 'onRecordDeleteRequest' && handlers('onRecordEnrich', e.collection).length) {
          enrich([e.record], e);
          patch = e.record._patch();
        }
      }),
    );
    if (failed) return JSON.stringify({ error: JSON.parse(failed) });
    const res = result();
    return res ? JSON.stringify({ response: res }) : JSON.stringify({ patch });
  };
})();
