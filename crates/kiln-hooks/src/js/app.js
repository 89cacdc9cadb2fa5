// `$app`: finding, saving and deleting records. Inside a write's transaction (a model hook) every
// call runs in that transaction, as PocketBase's `e.app` does; elsewhere on the app.
(() => {
  'use strict';
  const native = globalThis.__kiln;
  const js = native.js;

  const nameOf = (c) => (typeof c === 'string' ? c : c?.name ?? c?.id ?? '');

  // PocketBase's `{:name}` placeholders, replaced by literals of the filter language (the filter
  // is compiled with every literal bound, so this is as safe as dbx's binding).
  const quote = (v) => {
    if (v === null || v === undefined) return 'null';
    if (typeof v === 'number' || typeof v === 'boolean') return String(v);
    const s = typeof v === 'string' ? v : JSON.stringify(v);
    return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  };
  const bind = (filter, params) =>
    String(filter ?? '').replace(/\{:(\w+)\}/g, (m, name) => (params && name in params ? quote(params[name]) : m));

  const found = (list) => list.map(js.fromPayload);

  const findRecordById = (collection, id) => {
    const p = js.call(native.findRecordById(nameOf(collection), String(id)));
    if (p == null) throw new js.NoRowsError();
    return js.fromPayload(p);
  };

  const findRecordsByFilter = (collection, filter, sort = '', limit = 0, offset = 0, params) =>
    found(js.call(native.findRecords(nameOf(collection), bind(filter, params), String(sort ?? ''), Number(limit) || 0, Number(offset) || 0)));

  const findFirstRecordByFilter = (collection, filter, params) => {
    const list = findRecordsByFilter(collection, filter, '', 1, 0, params);
    if (!list.length) throw new js.NoRowsError();
    return list[0];
  };

  // cronAdd(name, expression, fn): while the files load, the job is listed for Kiln to add; later
  // (from a route or a hook) it is added at once. As PocketBase, a job runs its function's source.
  js.crons = new Map();
  let loading = true;
  globalThis.cronAdd = (name, expression, fn) => {
    if (typeof fn !== 'function') throw new TypeError('cronAdd(name, expression, handler): handler is a function');
    const problem = native.cronCheck(String(expression));
    if (problem) throw new Error(`cronAdd: ${problem}`);
    const job = { expression: String(expression), source: fn.toString() };
    if (loading) js.crons.set(String(name), job);
    else {
      const err = native.cronAdd(String(name), job.expression, job.source);
      if (err) throw new Error(`cronAdd: ${err}`);
    }
  };
  globalThis.cronRemove = (name) => {
    if (loading) js.crons.delete(String(name));
    else native.cronRemove(String(name));
  };
  // jobAdd(name, fn): the handler of the jobs named `name` (Kiln's job queue); like a cron job,
  // it runs its function's source, with `e.job` ({id, name, payload, attempt}). A throw fails
  // the run, which is retried while attempts remain.
  js.jobs = new Map();
  globalThis.jobAdd = (name, fn) => {
    if (typeof fn !== 'function') throw new TypeError('jobAdd(name, handler): handler is a function');
    if (loading) js.jobs.set(String(name), fn.toString());
    else {
      const err = native.jobAdd(String(name), fn.toString());
      if (err) throw new Error(`jobAdd: ${err}`);
    }
  };
  // a handler's function, evaluated once per runtime (in the global scope, as a cron job's)
  const jobFns = new Map();
  native.jobRun = (source, job) => {
    try {
      let fn = jobFns.get(source);
      if (!fn) jobFns.set(source, (fn = (0, eval)(`(${source})`)));
      fn({ job: JSON.parse(job) });
      return '';
    } catch (err) {
      js.errorJSON(err); // out of time or memory: the runtime is spent
      return String(err?.message ?? err);
    }
  };
  // $jobs.enqueue(name, payload, {runAt, uniqueKey, maxAttempts, backoff}): the job's id. In a
  // hook's transaction the job is queued with its writes.
  globalThis.$jobs = {
    enqueue: (name, payload = null, options = {}) => {
      const o = { ...(options ?? {}) };
      if (o.runAt instanceof Date) o.runAt = o.runAt.getTime();
      return js.call(native.jobEnqueue(String(name), JSON.stringify(payload ?? null), JSON.stringify(o)));
    },
  };
  // Kiln calls it once the files are evaluated
  native.loaded = () => {
    loading = false;
    return '';
  };
  native.cronRun = (source) => {
    try {
      (0, eval)(`(${source})`)();
      return '';
    } catch (err) {
      js.errorJSON(err); // out of time or memory: the runtime is spent
      return String(err?.message ?? err);
    }
  };

  // `{:name}` placeholders of raw SQL stay for Kiln to bind
  const query = (sql) => {
    let params = {};
    const q = {
      bind: (p) => {
        params = { ...params, ...(p ?? {}) };
        return q;
      },
      execute: () => {
        js.call(native.sqlExec(String(sql), JSON.stringify(params)));
      },
      // every row into `target` (arrayOf(model)): one copy of the model per row, its keys filled
      all: (target) => {
        const rows = js.call(native.sqlQuery(String(sql), JSON.stringify(params), 1e6));
        target.length = 0;
        for (const row of rows) target.push(fill(target._model, row));
      },
      // the first row into `target` (a DynamicModel, or any object); no row: sql.ErrNoRows
      one: (target) => {
        const rows = js.call(native.sqlQuery(String(sql), JSON.stringify(params), 1));
        if (!rows.length) throw new js.NoRowsError();
        Object.assign(target, fill(target, rows[0]));
      },
    };
    return q;
  };
  // a row's columns as the model's keys, converted to the model's value types (a model without
  // keys takes every column)
  const fill = (model, row) => {
    const keys = model && Object.keys(model).length ? Object.keys(model) : Object.keys(row);
    const out = {};
    for (const k of keys) {
      const v = row[k];
      const like = model?.[k];
      if (v === undefined) out[k] = like ?? null;
      else if (typeof like === 'number') out[k] = Number(v) || 0;
      else if (typeof like === 'boolean') out[k] = v === true || v === 1 || v === '1' || v === 'true';
      else if (typeof like === 'string') out[k] = v == null ? '' : String(v);
      else if (like && typeof like === 'object' && typeof v === 'string') {
        try { out[k] = JSON.parse(v); } catch { out[k] = v; }
      } else out[k] = v;
    }
    return out;
  };
  // arrayOf(model): an array that .all() fills with rows shaped like the model
  globalThis.arrayOf = (model) => {
    const list = [];
    Object.defineProperty(list, '_model', { value: model, enumerable: false });
    return list;
  };

  // runInTransaction(fn): fn($app) inside one transaction (inside the open one, if any); what
  // fn throws rolls it back and is thrown again as it was
  const txs = new Map();
  let txSeq = 0;
  const runInTransaction = (fn) => {
    if (typeof fn !== 'function') throw new TypeError('runInTransaction(fn): fn is a function');
    if (native.inTransaction()) return void fn(globalThis.$app);
    const id = String(++txSeq);
    const tx = { fn, error: undefined };
    txs.set(id, tx);
    try {
      const r = JSON.parse(native.runInTransaction(id));
      if (tx.error !== undefined) throw tx.error;
      if ('err' in r) js.call(JSON.stringify(r));
    } finally {
      txs.delete(id);
    }
  };
  native.txRun = (id) => {
    const tx = txs.get(id);
    try {
      tx.fn(globalThis.$app);
      return '';
    } catch (err) {
      tx.error = err;
      const out = js.errorJSON(err);
      return JSON.stringify(out.kiln ? out : { ...out, message: String(err?.message ?? err) });
    }
  };

  const expandRecords = (records, expands) => {
    const list = (records ?? []).filter((r) => r instanceof Record && !r.isNew());
    const paths = (Array.isArray(expands) ? expands : [expands]).filter(Boolean).map(String);
    const byCollection = new Map();
    for (const r of list) {
      const id = r.collection().id;
      if (!byCollection.has(id)) byCollection.set(id, []);
      byCollection.get(id).push(r);
    }
    for (const [id, rs] of byCollection) {
      const found = js.call(native.expandRecords(id, JSON.stringify(rs.map((r) => r.id)), paths.join(',')));
      for (const r of rs) if (found[r.id]) r.mergeExpand(found[r.id]);
    }
    return {};
  };

  globalThis.$app = Object.freeze({
    runInTransaction,
    newMailClient: () => js.mailClient(),
    // a copy of the settings (changing it changes nothing)
    settings: () => js.call(native.settings()),
    findCollectionByNameOrId: (nameOrId) => {
      const c = js.collection(nameOrId);
      if (!c) throw new js.NoRowsError();
      return new js.Collection(c);
    },
    importCollections: (list, deleteMissing = false) => {
      js.call(native.importCollections(JSON.stringify(list ?? []), !!deleteMissing));
    },
    db: () => ({ newQuery: query }),
    findRecordById,
    // expands the relations of stored records (no rule applies); the errors by path (none here:
    // a path that cannot be expanded is left out, as the records API does)
    expandRecord: (record, expands) => expandRecords([record], expands),
    expandRecords: (records, expands) => expandRecords(records, expands),
    findRecordsByIds: (collection, ids) => (ids ?? []).map((id) => {
      try {
        return findRecordById(collection, id);
      } catch (err) {
        if (err instanceof js.NoRowsError) return null;
        throw err;
      }
    }).filter(Boolean),
    findRecordsByFilter,
    findFirstRecordByFilter,
    // all records of the collection, or those matching $dbx expressions
    findAllRecords: (collection, ...exprs) => {
      const { sql, params } = js.where(exprs);
      return found(js.call(native.recordsWhere(nameOf(collection), sql, JSON.stringify(params), false)));
    },
    findFirstRecordByData: (collection, key, value) => findFirstRecordByFilter(collection, `${key} = {:v}`, { v: value }),
    findAuthRecordByEmail: (collection, email) => findFirstRecordByFilter(collection, 'email = {:v}', { v: email }),
    // PocketBase's form: the collection, then $dbx expressions
    countRecords: (collection, ...exprs) => {
      const { sql, params } = js.where(exprs);
      return js.call(native.recordsWhere(nameOf(collection), sql, JSON.stringify(params), true));
    },
    // Validates and writes the record (a create if it is new), with the model hooks; no rules.
    save: (record) => {
      if (record instanceof js.Collection) {
        const kind = record.id && js.collection(record.id) ? 'Update' : 'Create';
        js.collectionWrite(record, kind, (c) => unmarshal(js.call(native.saveCollection(JSON.stringify(c))), c));
        return;
      }
      if (!(record instanceof Record)) throw new TypeError('$app.save(model): a Record or a Collection');
      const values = record.isNew() ? { ...record._d } : record._changes();
      delete values.collectionId;
      delete values.collectionName;
      delete values.expand;
      if (record.isNew()) for (const k of Object.keys(values)) if (values[k] === null && !record._changed.has(k)) delete values[k];
      const files = js.takeFiles(values);
      const saved = js.call(native.save(record.collection().id, record.id, record.isNew(), JSON.stringify(values), JSON.stringify(files)));
      if (saved) record._reset(saved.full);
    },
    delete: (record) => {
      if (record instanceof js.Collection) {
        js.collectionWrite(record, 'Delete', (c) => js.call(native.deleteCollection(String(c.id || c.name))));
        return;
      }
      if (!(record instanceof Record)) throw new TypeError('$app.delete(model): a Record or a Collection');
      js.call(native.deleteRecord(record.collection().id, record.id));
    },
  });
})();
