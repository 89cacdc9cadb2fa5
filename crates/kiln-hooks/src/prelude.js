// PocketBase's JSVM API, as much of it as Kiln runs so far: routes, the request event, the error
// types and $apis middlewares. Evaluated before the app's pb_hooks files in every runtime; the
// natives it uses are on `__kiln` (kiln-hooks/src/runtime.rs).
(() => {
  'use strict';
  const native = globalThis.__kiln;
  const routes = [];

  // PocketBase's inflector.Sentenize: a capital first letter and a closing full stop.
  const sentenize = (s) => {
    s = String(s ?? '').trim();
    if (!s) return s;
    s = s[0].toUpperCase() + s.slice(1);
    return /[.!?]$/.test(s) ? s : `${s}.`;
  };

  class ValidationError extends Error {
    constructor(code = 'validation_invalid_value', message = 'Invalid value.') {
      super(message);
      this.code = code;
    }
  }

  // An error's data as PocketBase makes it safe to send: nested objects kept, a ValidationError
  // as its code and message, anything else as a generic invalid value.
  const safeData = (data) => {
    if (!data || typeof data !== 'object' || Array.isArray(data)) return {};
    const out = {};
    for (const [k, v] of Object.entries(data)) {
      if (v instanceof ValidationError) out[k] = { code: v.code, message: sentenize(v.message) };
      else if (v && typeof v === 'object' && !Array.isArray(v)) out[k] = safeData(v);
      else out[k] = { code: 'validation_invalid_value', message: 'Invalid value.' };
    }
    return out;
  };

  const STATUS_TEXT = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 409: 'Conflict', 413: 'Request Entity Too Large', 422: 'Unprocessable Entity', 429: 'Too Many Requests', 500: 'Internal Server Error', 503: 'Service Unavailable' };

  class ApiError extends Error {
    constructor(status = 400, message = '', data = {}) {
      status = Number(status) || 400;
      super(sentenize(message || STATUS_TEXT[status] || ''));
      this.status = status;
      this.data = safeData(data);
    }
  }
  const apiError = (name, status, fallback) => {
    const C = class extends ApiError {
      constructor(message = '', data = {}) {
        super(status, message || fallback, data);
      }
    };
    Object.defineProperty(C, 'name', { value: name });
    return C;
  };
  const BadRequestError = apiError('BadRequestError', 400, 'Something went wrong while processing your request.');
  const NotFoundError = apiError('NotFoundError', 404, "The requested resource wasn't found.");
  const ForbiddenError = apiError('ForbiddenError', 403, 'You are not allowed to perform this request.');
  const UnauthorizedError = apiError('UnauthorizedError', 401, 'Missing or invalid authentication.');
  const TooManyRequestsError = apiError('TooManyRequestsError', 429, 'Too Many Requests.');
  const InternalServerError = apiError('InternalServerError', 500, 'Something went wrong while processing your request.');

  // What Go's database/sql says when a lookup finds nothing (PocketBase's router answers it 404).
  class NoRowsError extends Error {
    constructor() {
      super('sql: no rows in result set');
    }
  }

  const toError = (err) => {
    if (err instanceof ApiError) return err;
    if (err instanceof NoRowsError) return new NotFoundError();
    return new BadRequestError('', {}); // PocketBase's router: any other error is a 400
  };

  // A record as hooks see it (read-only here): id, collection, get(); as JSON it is what the API
  // would show a guest (`view`, PocketBase's public export: no hidden fields).
  const record = (data, view) => {
    if (!data) return null;
    return Object.freeze({
      id: data.id,
      get: (name) => data[name],
      getString: (name) => (data[name] == null ? '' : String(data[name])),
      getBool: (name) => !!data[name],
      getInt: (name) => Math.trunc(Number(data[name]) || 0),
      getFloat: (name) => Number(data[name]) || 0,
      email: () => data.email ?? '',
      verified: () => !!data.verified,
      isSuperuser: () => data.collectionName === '_superusers',
      collection: () => ({ id: data.collectionId, name: data.collectionName }),
      publicExport: () => ({ ...(view ?? data) }),
      toJSON: () => ({ ...(view ?? data) }),
    });
  };

  const event = (req) => {
    let response = null;
    const headers = req.headers;
    const e = {
      request: {
        method: req.method,
        url: { path: req.path, rawQuery: req.rawQuery, query: () => ({ get: (k) => (req.query[k] ?? [''])[0] }) },
        header: { get: (name) => (headers[String(name).toLowerCase()] ?? [''])[0] },
        pathValue: (name) => req.params[name] ?? '',
        remoteAddr: req.ip,
      },
      auth: record(req.auth),
      realIP: () => req.ip,
      requestInfo: () => ({
        method: req.method,
        query: Object.fromEntries(Object.entries(req.query).map(([k, v]) => [k, v[0]])),
        headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.replace(/-/g, '_'), v[0]])),
        body: req.body ?? {},
        auth: record(req.auth),
        context: 'default',
      }),
      hasSuperuserAuth: () => req.auth?.collectionName === '_superusers',
      isTLS: () => false,
      json: (status, data) => void (response = { status, type: 'json', body: JSON.stringify(data === undefined ? null : data) }),
      string: (status, text) => void (response = { status, type: 'text/plain; charset=utf-8', body: String(text) }),
      html: (status, html) => void (response = { status, type: 'text/html; charset=utf-8', body: String(html) }),
      noContent: (status = 204) => void (response = { status, type: '', body: '' }),
      redirect: (status, url) => void (response = { status, type: '', body: '', location: String(url) }),
    };
    return { e, result: () => response };
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

  globalThis.$app = Object.freeze({
    findRecordById: (collection, id) => {
      const name = typeof collection === 'string' ? collection : collection?.name ?? collection?.id;
      const raw = native.findRecordById(String(name), String(id));
      if (raw == null) throw new NoRowsError();
      const { full, public: view } = JSON.parse(raw);
      return record(full, view);
    },
  });

  Object.assign(globalThis, {
    ApiError, BadRequestError, NotFoundError, ForbiddenError, UnauthorizedError, TooManyRequestsError, InternalServerError, ValidationError,
    sleep: (ms) => {
      // the sleep stops at the call's deadline, and the call ends there
      if (native.sleep(Number(ms) || 0)) throw new InternalError('interrupted');
    },
    toString: (v) => (typeof v === 'string' ? v : Array.isArray(v) || v instanceof Uint8Array ? String.fromCharCode(...v) : JSON.stringify(v)),
    $os: Object.freeze({ getenv: (name) => native.getenv(String(name)) }),
    console: Object.freeze({
      log: (...a) => native.log(0, a.map(String).join(' ')),
      info: (...a) => native.log(0, a.map(String).join(' ')),
      debug: (...a) => native.log(-4, a.map(String).join(' ')),
      warn: (...a) => native.log(4, a.map(String).join(' ')),
      error: (...a) => native.log(8, a.map(String).join(' ')),
    }),
  });

  // Called by Kiln: the routes the files registered, and one request for route `i`.
  native.routes = () => JSON.stringify(routes.map((r) => ({ method: r.method, path: r.path })));
  native.dispatch = (i, raw) => {
    const req = JSON.parse(raw);
    const { e, result } = event(req);
    const chain = routes[i].chain;
    let at = -1;
    e.next = () => {
      at += 1;
      if (at < chain.length) return chain[at](e);
    };
    try {
      e.next();
      return JSON.stringify(result() ?? { status: 204, type: '', body: '' });
    } catch (err) {
      // out of memory or stack (QuickJS throws null when it cannot even make the error): the
      // runtime is spent; Kiln ends the call and rebuilds it
      if (err == null || err instanceof InternalError) throw err ?? new InternalError('out of memory');
      const api = toError(err);
      if (!(err instanceof ApiError)) native.log(8, `${err?.stack ?? err}`);
      return JSON.stringify({ status: api.status, type: 'json', body: JSON.stringify({ data: api.data, message: api.message, status: api.status }) });
    }
  };
})();
