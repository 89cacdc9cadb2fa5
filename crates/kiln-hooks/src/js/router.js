// Routes (`routerAdd`), the request event and the `$apis` middlewares.
(() => {
  'use strict';
  const native = globalThis.__kiln;
  const js = native.js;
  const routes = [];
  js.hooks = []; // [{name, tags, fn}] in registration order (records.js adds to it)

  // The request event (PocketBase's core.RequestEvent) for a request Kiln hands over as JSON;
  // `result()` is the answer a handler wrote, if any.
  // The request event (PocketBase's core.RequestEvent) for a request Kiln hands over as JSON; its
  // methods live on the prototypes, so an event costs two small objects. `result()` is the answer
  // a handler wrote, if any.
  const header = (headers, name) => {
    // Kiln's records requests carry header names as rules read them (`x_token`)
    const n = String(name).toLowerCase();
    return (headers[n] ?? headers[n.replace(/-/g, '_')] ?? [''])[0];
  };
  class Request {
    constructor(req) {
      this._req = req;
      this.method = req.method;
      this.remoteAddr = req.ip;
      this.header = { get: (name) => header(req.headers, name) };
    }
    get url() {
      const req = this._req;
      return { path: req.path, rawQuery: req.rawQuery, query: () => ({ get: (k) => (req.query[k] ?? [''])[0] }) };
    }
    get host() { return header(this._req.headers, 'host'); }
    pathValue(name) { return this._req.params[name] ?? ''; }
  }
  class RequestEvent {
    constructor(req) {
      this._req = req;
      this._response = null;
      this.app = globalThis.$app;
      this.request = new Request(req);
      this.auth = req.auth ? js.recordOf(req.auth) : null;
    }
    realIP() { return this._req.ip; }
    requestInfo() {
      const req = this._req;
      return {
        method: req.method,
        query: Object.fromEntries(Object.entries(req.query).map(([k, v]) => [k, v[0]])),
        headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k.replace(/-/g, '_'), v[0]])),
        body: req.body ?? {},
        auth: this.auth,
        context: 'default',
      };
    }
    // the body's values for the keys `target` has (a DynamicModel's shape)
    bindBody(target) {
      const body = this._req.body ?? {};
      for (const k of Object.keys(target ?? {})) if (k in body) target[k] = body[k];
      return target;
    }
    hasSuperuserAuth() { return this._req.auth?.collectionName === '_superusers'; }
    isTLS() { return false; }
    json(status, data) { this._response = { status, type: 'json', body: JSON.stringify(data === undefined ? null : data) }; }
    string(status, text) { this._response = { status, type: 'text/plain; charset=utf-8', body: String(text) }; }
    html(status, html) { this._response = { status, type: 'text/html; charset=utf-8', body: String(html) }; }
    noContent(status = 204) { this._response = { status, type: '', body: '' }; }
    redirect(status, url) { this._response = { status, type: '', body: '', location: String(url) }; }
  }
  js.event = (req) => {
    const e = new RequestEvent(req);
    const flags = (r) => (r && (e._gzip || e._skipLog) ? { ...r, gzip: !!e._gzip, skipLog: !!e._skipLog } : r);
    return { e, result: () => flags(e._response) };
  };

  // Runs `handlers` as PocketBase's hook chain: each calls e.next() for the next; after the last,
  // `last()` (the action itself).
  js.chain = (e, handlers, last) => {
    let at = -1;
    e.next = () => {
      at += 1;
      if (at < handlers.length) return handlers[at](e);
      if (at === handlers.length) return last(e);
    };
    return e.next();
  };

  // new DynamicModel({title: "", n: 0}): a value of that shape, for e.bindBody
  globalThis.DynamicModel = class DynamicModel {
    constructor(shape) {
      Object.assign(this, shape ?? {});
    }
  };

  globalThis.routerAdd = (method, path, handler, ...middlewares) => {
    if (typeof method !== 'string' || typeof path !== 'string' || typeof handler !== 'function') {
      throw new TypeError('routerAdd(method, path, handler, ...middlewares): method and path are strings, handler a function');
    }
    const chain = [];
    for (const m of middlewares) {
      const fn = typeof m === 'function' ? m : m?.func;
      if (typeof fn !== 'function') throw new TypeError('routerAdd: a middleware is a function or {func}');
      chain.push(fn);
    }
    routes.push({ method: method.toUpperCase(), path, chain: [...chain, handler] });
  };

  // routerUse(...middlewares): around every request, Kiln's routes and the hooks' alike
  const middlewares = [];
  globalThis.routerUse = (...list) => {
    for (const m of list) {
      const fn = typeof m === 'function' ? m : m?.func;
      if (typeof fn !== 'function') throw new TypeError('routerUse: a middleware is a function or {func}');
      middlewares.push(fn);
    }
  };

  // PocketBase's apis.RequireAuth and friends (apis/middlewares.go), with their messages.
  const requireAuth = (...collections) => (e) => {
    if (!e.auth) throw new UnauthorizedError('The request requires valid record authorization token.');
    if (collections.length && !collections.includes(e.auth.collection().name)) {
      throw new ForbiddenError('The authorized record is not allowed to perform this action.');
    }
    return e.next();
  };
  globalThis.$apis = Object.freeze({
    requireAuth,
    // a body larger than `bytes` is refused (413), as PocketBase's
    bodyLimit: (bytes) => (e) => {
      const size = Number(e.request.header.get('content-length')) || 0;
      if (size > Number(bytes)) throw new ApiError(413, 'Request entity too large');
      return e.next();
    },
    // the answer gzip-compressed when the client takes it (Kiln compresses it)
    gzip: () => (e) => {
      e._gzip = true;
      return e.next();
    },
    // a successful request is not logged
    skipSuccessActivityLog: () => (e) => {
      e._skipLog = true;
      return e.next();
    },
    requireSuperuserAuth: () => requireAuth('_superusers'),
    requireSuperuserOrOwnerAuth: (param = 'id') => (e) => {
      if (!e.auth) throw new UnauthorizedError('The request requires superuser or record authorization token.');
      if (e.auth.isSuperuser()) return e.next();
      if (e.auth.id !== e.request.pathValue(param || 'id')) throw new ForbiddenError('You are not allowed to perform this request.');
      return e.next();
    },
    requireGuestOnly: () => (e) => {
      if (e.auth) throw new BadRequestError('The request can be accessed only by guests.');
      return e.next();
    },
  });

  // Called by Kiln: what the files registered, and one request for route `i`.
  native.registry = () =>
    JSON.stringify({
      routes: routes.map((r) => ({ method: r.method, path: r.path })),
      middlewares: middlewares.length,
      hooks: js.hooks.map((h) => ({ name: h.name, tags: h.tags })),
      crons: [...js.crons.entries()].map(([name, c]) => ({ name, expression: c.expression, source: c.source })),
      jobs: [...js.jobs.entries()].map(([name, source]) => ({ name, source })),
    });
  const failed = (err) => {
    const out = js.errorJSON(err);
    if (out.kiln) return JSON.stringify({ kiln: true });
    return JSON.stringify({ status: out.status, type: 'json', body: JSON.stringify({ data: out.data, message: out.message, status: out.status }) });
  };
  native.dispatch = (i, raw) => {
    const { e, result } = js.event(JSON.parse(raw));
    try {
      js.chain(e, routes[i].chain, () => {});
      return JSON.stringify(result() ?? { status: 204, type: '', body: '' });
    } catch (err) {
      return failed(err);
    }
  };
  // The middlewares of one request: "" when the last e.next() let it go on (or no one
  // answered), else the answer.
  native.middleware = (raw) => {
    const { e, result } = js.event(JSON.parse(raw));
    let passed = false;
    // what $apis.gzip() and skipSuccessActivityLog() ask of the answer the request goes on to
    const went = () => (e._gzip || e._skipLog ? JSON.stringify({ passed: true, gzip: !!e._gzip, skipLog: !!e._skipLog }) : '');
    try {
      js.chain(e, middlewares, () => {
        passed = true;
        js.call(native.middlewareNext('{}'));
      });
      const res = result();
      return res && !passed ? JSON.stringify(res) : went();
    } catch (err) {
      return passed ? went() : failed(err);
    }
  };
})();
