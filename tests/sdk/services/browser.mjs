// A real headless Chromium (Debian's `chromium` package) driven by playwright-core, with Chrome's
// virtual WebAuthn authenticator, for the passkey tests.
//
//   const browser = await launchBrowser();
//   const tab = await browser.openPage({ origin: 'http://localhost:8090' });
//   const begin = await tab.api('/api/collections/users/passkeys/register-begin', {}, token);
//   const { credential } = await tab.create(begin.body.publicKey);   // navigator.credentials.create
//   ...
//   await browser.close();
//
//   CHROMIUM_BIN              the browser binary (default /usr/bin/chromium)
//   KILN_WEBAUTHN_FALLBACK=1  every page takes the fallback path (no parse*FromJSON, no toJSON)
//
// Each page is `{origin}/__passkey_test__.html`, an empty document that playwright serves itself
// (page.route), so it has the server's origin: every other request from the page (the API calls)
// goes to the real server, same-origin. WebAuthn needs a secure context and a domain RP id, so the
// origin must be http://localhost:PORT; Chromium is told to resolve localhost to 127.0.0.1 (where
// the test server listens) rather than trying ::1 first.
//
// Each page gets its own CDP session and its own virtual authenticator (ctap2, internal, resident
// keys, user verification that always succeeds), so credentials never leak between pages.
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';

export const TEST_PAGE = '/__passkey_test__.html';
const LAUNCH_TIMEOUT_MS = 30_000;
const STEP_TIMEOUT_MS = 20_000; // one page.evaluate (an API call, create() or get())
const WEBAUTHN_TIMEOUT_MS = 15_000; // create()/get() are aborted in the page after this

/** Rejects with a message naming `what` if `promise` takes longer than `ms`. */
export function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, fail) => {
    timer = setTimeout(() => fail(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Runs in the page (an init script, serialized by playwright: it must be self-contained).
 * Installs `window.__kiln` with api(), create(), get(), mode(). With `fallback`, the browser's
 * JSON helpers are removed first, as in a browser that predates them.
 */
function pageHelpers({ fallback, webauthnTimeoutMs }) {
  if (fallback && typeof PublicKeyCredential !== 'undefined') {
    delete PublicKeyCredential.parseCreationOptionsFromJSON;
    delete PublicKeyCredential.parseRequestOptionsFromJSON;
    delete PublicKeyCredential.prototype.toJSON;
  }

  // --- unpadded base64url <-> bytes ---
  const bytes = (buf) => (buf instanceof ArrayBuffer ? new Uint8Array(buf) : new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength));
  const enc = (buf) => {
    let s = '';
    for (const b of bytes(buf)) s += String.fromCharCode(b);
    return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  };
  const dec = (str) => {
    if (typeof str !== 'string' || !/^[A-Za-z0-9_-]*$/.test(str)) throw new TypeError(`not base64url: ${JSON.stringify(str)}`);
    const b64 = str.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (str.length % 4)) % 4);
    const bin = atob(b64);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out.buffer;
  };
  const descriptor = (d) => ({ ...d, id: dec(d.id) });

  // --- the fallback: what parse*FromJSON and toJSON do, by hand ---
  const parseCreation = (o) => ({
    ...o,
    challenge: dec(o.challenge),
    user: { ...o.user, id: dec(o.user.id) },
    ...(o.excludeCredentials ? { excludeCredentials: o.excludeCredentials.map(descriptor) } : {}),
  });
  const parseRequest = (o) => ({
    ...o,
    challenge: dec(o.challenge),
    ...(o.allowCredentials ? { allowCredentials: o.allowCredentials.map(descriptor) } : {}),
  });
  const common = (c) => ({
    id: c.id,
    rawId: enc(c.rawId),
    type: c.type,
    authenticatorAttachment: c.authenticatorAttachment ?? undefined,
    clientExtensionResults: c.getClientExtensionResults(),
  });
  const registrationJSON = (c) => ({
    ...common(c),
    response: {
      clientDataJSON: enc(c.response.clientDataJSON),
      attestationObject: enc(c.response.attestationObject),
      ...(typeof c.response.getTransports === 'function' ? { transports: c.response.getTransports() } : {}),
    },
  });
  const assertionJSON = (c) => ({
    ...common(c),
    response: {
      clientDataJSON: enc(c.response.clientDataJSON),
      authenticatorData: enc(c.response.authenticatorData),
      signature: enc(c.response.signature),
      ...(c.response.userHandle ? { userHandle: enc(c.response.userHandle) } : {}),
    },
  });

  const hasNative = () => ({
    parseCreationOptionsFromJSON: typeof PublicKeyCredential.parseCreationOptionsFromJSON === 'function',
    parseRequestOptionsFromJSON: typeof PublicKeyCredential.parseRequestOptionsFromJSON === 'function',
    toJSON: typeof PublicKeyCredential.prototype.toJSON === 'function',
  });

  /** Runs create()/get(); never throws: { ok, credential, fallbackJSON, used } or { ok: false, error }. */
  async function ceremony(kind, publicKeyJSON) {
    const native = hasNative();
    const parseNative = kind === 'create' ? native.parseCreationOptionsFromJSON : native.parseRequestOptionsFromJSON;
    const used = { parse: parseNative ? 'native' : 'fallback', toJSON: native.toJSON ? 'native' : 'fallback' };
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(new DOMException(`${kind}() took over ${webauthnTimeoutMs} ms`, 'TimeoutError')), webauthnTimeoutMs);
    try {
      let publicKey;
      if (kind === 'create') {
        publicKey = parseNative ? PublicKeyCredential.parseCreationOptionsFromJSON(publicKeyJSON) : parseCreation(publicKeyJSON);
      } else {
        publicKey = parseNative ? PublicKeyCredential.parseRequestOptionsFromJSON(publicKeyJSON) : parseRequest(publicKeyJSON);
      }
      const cred = await navigator.credentials[kind]({ publicKey, signal: ac.signal });
      const fallbackJSON = kind === 'create' ? registrationJSON(cred) : assertionJSON(cred);
      const credential = native.toJSON ? cred.toJSON() : fallbackJSON;
      // round-trip through JSON as it would be posted (drops undefined members)
      return { ok: true, used, credential: JSON.parse(JSON.stringify(credential)), fallbackJSON: JSON.parse(JSON.stringify(fallbackJSON)) };
    } catch (e) {
      return { ok: false, used, error: { name: e?.name ?? 'Error', message: e?.message ?? String(e) } };
    } finally {
      clearTimeout(timer);
    }
  }

  window.__kiln = {
    mode: () => ({ fallback: !!fallback, native: hasNative(), secure: window.isSecureContext, origin: location.origin }),
    /** POST path with a JSON body (and an Authorization header if token): { status, body }. */
    async api(path, body, token) {
      const headers = { 'content-type': 'application/json' };
      if (token) headers.authorization = token;
      const res = await fetch(path, { method: 'POST', headers, body: JSON.stringify(body ?? {}) });
      const text = await res.text();
      let parsed;
      try {
        parsed = text ? JSON.parse(text) : null;
      } catch {
        parsed = { nonJSONBody: text };
      }
      return { status: res.status, body: parsed };
    },
    create: (publicKeyJSON) => ceremony('create', publicKeyJSON),
    get: (publicKeyJSON) => ceremony('get', publicKeyJSON),
  };
}

/** Standard base64 (as CDP's WebAuthn domain uses) -> unpadded base64url. */
export const cdpToB64url = (b64) => Buffer.from(b64, 'base64').toString('base64url');

/**
 * Launches headless Chromium. Returns { browser, version, openPage(opts), logs(), close() };
 * logs() is everything the pages said (console, page errors, failed requests, API responses).
 */
export async function launchBrowser() {
  const executablePath = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
  if (!existsSync(executablePath)) {
    throw new Error(`browser not found: ${executablePath} (apt-get install chromium, or set CHROMIUM_BIN)`);
  }
  const browser = await chromium.launch({
    executablePath,
    headless: true,
    timeout: LAUNCH_TIMEOUT_MS,
    args: [
      '--no-sandbox', // the tests run as root
      '--host-resolver-rules=MAP localhost 127.0.0.1',
      '--no-first-run',
      '--disable-gpu',
      '--disable-dev-shm-usage',
    ],
  });
  const lines = [];
  const log = (label, text) => lines.push(`${new Date().toISOString()} [${label}] ${text}`);
  const forceFallback = process.env.KILN_WEBAUTHN_FALLBACK === '1';
  let pages = 0;

  /**
   * Opens {origin}/__passkey_test__.html in a fresh context with its own virtual authenticator.
   * fallback: remove parse*FromJSON/toJSON so the page's own base64url code is used.
   */
  async function openPage({ origin, fallback = forceFallback, label = `page${++pages}` }) {
    const context = await browser.newContext();
    const page = await context.newPage();
    page.setDefaultTimeout(STEP_TIMEOUT_MS);
    page.on('console', (m) => log(label, `console.${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => log(label, `pageerror: ${e.stack ?? e}`));
    page.on('requestfailed', (r) => log(label, `request failed: ${r.method()} ${r.url()}: ${r.failure()?.errorText}`));
    page.on('response', (r) => {
      if (!r.url().endsWith(TEST_PAGE)) log(label, `${r.request().method()} ${r.url()} -> ${r.status()}`);
    });

    const url = `${origin}${TEST_PAGE}`;
    await page.route(url, (route) => route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>t</title>' }));
    await page.addInitScript(pageHelpers, { fallback, webauthnTimeoutMs: WEBAUTHN_TIMEOUT_MS });
    await page.goto(url);

    const cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable', { enableUI: false });
    const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2',
        transport: 'internal',
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
        automaticPresenceSimulation: true,
      },
    });

    const evaluate = (what, fn, arg) => withTimeout(page.evaluate(fn, arg), STEP_TIMEOUT_MS, `${label}: ${what}`);
    const mode = await evaluate('mode()', () => window.__kiln.mode());
    log(label, `opened ${url} ${JSON.stringify(mode)} authenticator ${authenticatorId}`);

    return {
      page,
      cdp,
      authenticatorId,
      mode,
      /** POST from the page (same origin as the server): { status, body }. */
      api: (path, body, token) => evaluate(`POST ${path}`, ([p, b, t]) => window.__kiln.api(p, b, t), [path, body, token]),
      /** navigator.credentials.create with the server's JSON options: { ok, credential, fallbackJSON, used } | { ok: false, error }. */
      create: (publicKeyJSON) => evaluate('navigator.credentials.create()', (o) => window.__kiln.create(o), publicKeyJSON),
      /** navigator.credentials.get with the server's JSON options: same shape as create(). */
      get: (publicKeyJSON) => evaluate('navigator.credentials.get()', (o) => window.__kiln.get(o), publicKeyJSON),
      /** The virtual authenticator's credentials (CDP: ids and user handles in standard base64). */
      credentials: async () => (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials,
      close: () => context.close(),
    };
  }

  return {
    browser,
    version: browser.version(),
    openPage,
    logs: () => `--- browser (${executablePath} ${browser.version()}) ---\n${lines.join('\n')}\n`,
    close: () => browser.close(),
  };
}
