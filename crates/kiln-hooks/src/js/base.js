// PocketBase's JSVM globals every other part uses: the error types, console, sleep, $os and
// toString. Evaluated first in every runtime; the natives are on `__kiln` (kiln-hooks/src/natives.rs),
// and what the prelude's files share among themselves on `__kiln.js`.
(() => {
  'use strict';
  const native = globalThis.__kiln;
  const js = (native.js = {});

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
  const GENERIC = 'Something went wrong while processing your request.';

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
  const BadRequestError = apiError('BadRequestError', 400, GENERIC);
  const NotFoundError = apiError('NotFoundError', 404, "The requested resource wasn't found.");
  const ForbiddenError = apiError('ForbiddenError', 403, 'You are not allowed to perform this request.');
  const UnauthorizedError = apiError('UnauthorizedError', 401, 'Missing or invalid authentication.');
  const TooManyRequestsError = apiError('TooManyRequestsError', 429, 'Too Many Requests.');
  const InternalServerError = apiError('InternalServerError', 500, GENERIC);

  // What Go's database/sql says when a lookup finds nothing (PocketBase's router answers it 404).
  class NoRowsError extends Error {
    constructor() {
      super('sql: no rows in result set');
    }
  }

  // A write or query of Kiln's failed; the error itself stays with Kiln, which answers it as the
  // API would if it comes out of the hook uncaught.
  class WriteError extends Error {}

  // A native's `{ok}` / `{err}` answer: the value, or a thrown WriteError.
  js.call = (raw) => {
    const a = JSON.parse(raw);
    if ('err' in a) throw new WriteError(a.err);
    return a.ok;
  };

  // An error a hook threw, as the JSON Kiln answers with. Running out of time, memory or stack
  // (QuickJS throws null when it cannot even make the error) escapes: the runtime is spent.
  js.errorJSON = (err) => {
    if (err == null || err instanceof InternalError) throw err ?? new InternalError('out of memory');
    if (err instanceof ApiError) return { status: err.status, message: err.message, data: err.data };
    if (err instanceof WriteError) return { kiln: true };
    if (err instanceof NoRowsError) return { status: 404, message: "The requested resource wasn't found.", data: {} };
    native.log(8, `${err?.stack ?? err}`);
    // PocketBase's router: any other error is a 400 (`thrown`: what was thrown, for Kiln to tell)
    return { status: 400, message: GENERIC, data: {}, thrown: String(err?.message ?? err) };
  };

  js.NoRowsError = NoRowsError;

  // Bytes as text (UTF-8, as Go's string([]byte)), and back.
  // (invalid sequences, overlong forms, surrogates and code points past U+10FFFF become
  // U+FFFD, one per byte, as Go's decoder does)
  const MIN_OF = [0, 0x80, 0x800, 0x10000];
  const utf8Text = (bytes) => {
    let out = '';
    for (let i = 0; i < bytes.length; ) {
      const b = bytes[i] & 0xff;
      const n = b < 0x80 ? 0 : b >= 0xf5 ? -1 : b >= 0xf0 ? 3 : b >= 0xe0 ? 2 : b >= 0xc2 ? 1 : -1;
      let cp = n === 0 ? b : n === 1 ? b & 0x1f : n === 2 ? b & 0x0f : b & 0x07;
      let ok = n >= 0 && i + n < bytes.length;
      for (let k = 1; ok && k <= n; k++) {
        const c = bytes[i + k] & 0xff;
        if ((c & 0xc0) !== 0x80) ok = false;
        else cp = (cp << 6) | (c & 0x3f);
      }
      if (ok && (cp < MIN_OF[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))) ok = false;
      if (!ok) {
        out += '\ufffd';
        i += 1;
        continue;
      }
      out += String.fromCodePoint(cp);
      i += n + 1;
    }
    return out;
  };
  js.utf8Bytes = (s) => {
    const out = [];
    for (const ch of String(s)) {
      const cp = ch.codePointAt(0);
      if (cp < 0x80) out.push(cp);
      else if (cp < 0x800) out.push(0xc0 | (cp >> 6), 0x80 | (cp & 0x3f));
      else if (cp < 0x10000) out.push(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
      else out.push(0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 0x3f), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
    }
    return out;
  };

  // $filesystem's files: what to read when a record holding them is saved
  class File {
    constructor(source, name) {
      this._source = source;
      this.originalName = name;
      this.name = name;
    }
  }
  const baseName = (p) => String(p).split(/[\\/]/).filter(Boolean).pop() ?? '';
  // the files of `values` (a record's values about to be saved) as uploads; a list that keeps
  // stored names beside new files appends them (PocketBase's `field+`)
  js.takeFiles = (values) => {
    const files = [];
    for (const [k, v] of Object.entries(values)) {
      const list = Array.isArray(v) ? v : [v];
      const news = list.filter((x) => x instanceof File);
      if (!news.length) continue;
      const kept = list.filter((x) => !(x instanceof File));
      const key = kept.length ? `${k}+` : k;
      if (kept.length) values[k] = kept;
      else delete values[k];
      for (const f of news) files.push({ key, name: f.originalName, ...f._source });
    }
    return files;
  };

  const renderer = (source) => Object.freeze({
    render: (data) => {
      const r = JSON.parse(native.templateRender(JSON.stringify(source), JSON.stringify(data ?? null)));
      if ('err' in r) throw new Error(r.err);
      return r.ok;
    },
  });

  // $security's natives answer {ok} or {err}; an error throws, as PocketBase's Go error would
  const sec = (op, a = '', b = '', n = 0) => {
    const r = JSON.parse(native.security(op, String(a ?? ''), String(b ?? ''), Number(n) || 0));
    if ('err' in r) throw new Error(r.err);
    return r.ok;
  };

  // require(id): CommonJS modules, each evaluated once per runtime (kiln-hooks/src/modules.rs
  // resolves and reads them); a module's own require resolves from its folder.
  const modules = new Map();
  const found = (raw) => {
    const a = JSON.parse(raw);
    if ('err' in a) throw new Error(a.err);
    return a.ok;
  };
  const requireFrom = (dir) => (id) => {
    const path = found(native.resolveModule(dir, String(id)));
    const cached = modules.get(path);
    if (cached) return cached.exports;
    const source = found(native.readModule(path));
    const module = { id: path, filename: path, loaded: false, exports: {} };
    modules.set(path, module);
    try {
      if (path.endsWith('.json')) module.exports = JSON.parse(source);
      else {
        const folder = path.slice(0, path.lastIndexOf('/')) || '/';
        module.require = requireFrom(folder);
        native.evalModule(path, source).call(module.exports, module.exports, module.require, module, path, folder);
      }
    } catch (err) {
      modules.delete(path);
      throw err;
    }
    module.loaded = true;
    return module.exports;
  };

  Object.assign(globalThis, {
    require: requireFrom('.'),
    ApiError, BadRequestError, NotFoundError, ForbiddenError, UnauthorizedError, TooManyRequestsError, InternalServerError, ValidationError,
    sleep: (ms) => {
      // the sleep stops at the call's deadline, and the call ends there
      if (native.sleep(Number(ms) || 0)) throw new InternalError('interrupted');
    },
    toString: (v) => (typeof v === 'string' ? v : Array.isArray(v) || v instanceof Uint8Array ? utf8Text(v) : JSON.stringify(v)),
    $os: Object.freeze({ getenv: (name) => native.getenv(String(name)) }),
    $filesystem: Object.freeze({
      fileFromPath: (path) => new File({ path: String(path) }, baseName(path)),
      fileFromBytes: (bytes, name) => new File({ bytes: Array.from(bytes ?? []) }, String(name ?? '')),
      fileFromURL: (url, timeout = 120) => new File({ url: String(url), timeout: Number(timeout) || 120 }, baseName(String(url).split(/[?#]/)[0])),
    }),
    // $template.loadFiles(...paths) / loadString(text), then .render(data): Go's html/template
    $template: Object.freeze({
      loadFiles: (...files) => renderer({ files: files.flat().map(String) }),
      loadString: (text) => renderer({ text: String(text ?? '') }),
    }),
    // $http.send({url, method, body, headers, timeout}): throws when the request cannot be made
    $http: Object.freeze({
      send: (config = {}) => {
        const body = typeof config.body === 'string' ? config.body : config.body == null ? '' : JSON.stringify(config.body);
        const r = JSON.parse(native.httpSend(JSON.stringify({ ...config, body })));
        if ('err' in r) throw new Error(r.err);
        return r.ok;
      },
    }),
    $security: Object.freeze(Object.fromEntries([
      ['randomString', (n) => sec('randomString', '', '', n)],
      ['randomStringWithAlphabet', (n, alphabet) => sec('randomString', alphabet, '', n)],
      ['pseudorandomString', (n) => sec('randomString', '', '', n)],
      ['pseudorandomStringWithAlphabet', (n, alphabet) => sec('randomString', alphabet, '', n)],
      ['md5', (t) => sec('md5', t)],
      ['sha256', (t) => sec('sha256', t)],
      ['sha512', (t) => sec('sha512', t)],
      ['hs256', (t, secret) => sec('hs256', t, secret)],
      ['hs512', (t, secret) => sec('hs512', t, secret)],
      ['equal', (a, b) => sec('equal', a, b)],
      ['encrypt', (data, key) => sec('encrypt', data, key)],
      ['decrypt', (cipher, key) => sec('decrypt', cipher, key)],
      ['createJWT', (payload, key, secs) => sec('createJWT', JSON.stringify(payload ?? {}), key, secs)],
      ['parseJWT', (token, key) => sec('parseJWT', token, key)],
      ['parseUnverifiedJWT', (token) => sec('parseUnverifiedJWT', token)],
    ])),
    console: Object.freeze({
      log: (...a) => native.log(0, a.map(String).join(' ')),
      info: (...a) => native.log(0, a.map(String).join(' ')),
      debug: (...a) => native.log(-4, a.map(String).join(' ')),
      warn: (...a) => native.log(4, a.map(String).join(' ')),
      error: (...a) => native.log(8, a.map(String).join(' ')),
    }),
  });
})();
