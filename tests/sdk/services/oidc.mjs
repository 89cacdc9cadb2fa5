// A real OpenID Connect provider (npm `oidc-provider`) on http://127.0.0.1:<free port>.
//
//   const op = await startOidc({ redirectUris: ['http://127.0.0.1:8090/api/oauth2-redirect'] });
//   op.issuer, op.clientId, op.clientSecret, op.discovery (the parsed .well-known document)
//   const { code, state } = await op.authorize(authUrlWithRedirectUri);
//   await op.stop();
//
// One confidential client (token endpoint auth: client_secret_basic, which is what Go's
// golang.org/x/oauth2 tries first; PKCE S256 allowed but not required; scopes openid email profile)
// and one fixed end-user account (ACCOUNT below). The login and consent "pages" are a tiny custom
// interaction route that completes the interaction programmatically via interactionFinished().
import { createServer } from 'node:http';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import Provider from 'oidc-provider';

export const ACCOUNT = {
  sub: 'oidc-user-1',
  email: 'oidcuser@example.com',
  email_verified: true,
  name: 'Oidc User',
  preferred_username: 'oidcuser',
};

const MAX_HOPS = 20;

/**
 * `avatar`: optional image bytes served at `<issuer>/avatar.png` and given as the account's
 * `picture` claim.
 */
export async function startOidc({ redirectUris, avatar }) {
  const clientId = 'kiln-test-client';
  const clientSecret = randomBytes(24).toString('hex');

  // Listen first: the issuer URL must contain the port.
  let handler = (_req, res) => { res.statusCode = 503; res.end(); };
  const server = createServer((req, res) => handler(req, res));
  await new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => { server.off('error', fail); ok(); });
  });
  const issuer = `http://127.0.0.1:${server.address().port}`;

  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'kiln-test', use: 'sig', alg: 'RS256' };

  const provider = new Provider(issuer, {
    clients: [{
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uris: redirectUris,
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    }],
    async findAccount(_ctx, id) {
      if (id !== ACCOUNT.sub) return undefined;
      const picture = avatar ? { picture: `${issuer}/avatar.png` } : {};
      return { accountId: id, async claims() { return { ...ACCOUNT, ...picture }; } };
    },
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'preferred_username', 'picture'],
    },
    scopes: ['openid', 'email', 'profile'],
    features: { devInteractions: { enabled: false } },
    pkce: { required: () => false },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    jwks: { keys: [signingKey] },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    adapter: memoryAdapter(),
    ttl: { AccessToken: 600, AuthorizationCode: 60, IdToken: 600, Interaction: 600, Session: 600, Grant: 600 },
    renderError(ctx, out) {
      ctx.type = 'json';
      ctx.body = out;
    },
  });
  provider.on('server_error', (_ctx, err) => console.error('[oidc] server_error', err));

  // Completes login (as ACCOUNT) and consent (grants whatever is missing) without any UI.
  async function interaction(req, res) {
    const details = await provider.interactionDetails(req, res);
    const { prompt, params, session } = details;
    if (prompt.name === 'login') {
      await provider.interactionFinished(req, res, { login: { accountId: ACCOUNT.sub } }, { mergeWithLastSubmission: false });
      return;
    }
    if (prompt.name === 'consent') {
      const grant = details.grantId
        ? await provider.Grant.find(details.grantId)
        : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
      const missing = prompt.details;
      if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
      if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
      for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
        grant.addResourceScope(indicator, scopes.join(' '));
      }
      const grantId = await grant.save();
      await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
      return;
    }
    res.statusCode = 400;
    res.end(`unsupported prompt ${prompt.name}`);
  }

  const callback = provider.callback();
  handler = (req, res) => {
    if (avatar && req.url === '/avatar.png') {
      res.setHeader('content-type', 'image/png');
      res.end(avatar);
      return;
    }
    if (req.url.startsWith('/interaction/')) {
      interaction(req, res).catch((e) => {
        res.statusCode = 500;
        res.end(String(e?.stack ?? e));
      });
      return;
    }
    callback(req, res);
  };

  const discovery = await (await fetch(`${issuer}/.well-known/openid-configuration`)).json();

  /**
   * Plays the browser: GETs `authUrl`, follows redirects with a cookie jar (fresh per call, like a
   * new private window) through the login/consent interactions, and stops at the first redirect to
   * a registered redirect URI. Returns { code, state, redirect } (throws on an OAuth2 error).
   */
  async function authorize(authUrl) {
    const jar = new CookieJar();
    let url = new URL(authUrl);
    for (let hop = 0; hop < MAX_HOPS; hop++) {
      if (redirectUris.some((r) => sameEndpoint(r, url))) {
        const q = url.searchParams;
        if (q.get('error')) throw new Error(`authorization failed: ${q.get('error')}: ${q.get('error_description')}`);
        return { code: q.get('code'), state: q.get('state'), redirect: url.toString() };
      }
      if (url.origin !== issuer) throw new Error(`authorize() left the provider: ${url}`);
      const res = await fetch(url, { redirect: 'manual', headers: { cookie: jar.header(url) } });
      jar.store(url, res.headers.getSetCookie());
      const location = res.headers.get('location');
      if (res.status < 300 || res.status >= 400 || !location) {
        throw new Error(`authorize(): unexpected ${res.status} at ${url}: ${(await res.text()).slice(0, 500)}`);
      }
      await res.arrayBuffer();
      url = new URL(location, url);
    }
    throw new Error(`authorize(): more than ${MAX_HOPS} redirects`);
  }

  async function stop() {
    server.closeAllConnections?.();
    await new Promise((r) => server.close(r));
  }

  return { issuer, clientId, clientSecret, discovery, account: { ...ACCOUNT }, authorize, stop };
}

/** A per-provider in-memory store (the built-in one is process-global and warns on every start). */
function memoryAdapter() {
  const store = new Map(); // `${model}:${id}` -> { payload, expiresAt }
  const live = (key) => {
    const e = store.get(key);
    if (e && e.expiresAt <= Date.now()) store.delete(key);
    return store.get(key)?.payload;
  };
  return class {
    constructor(model) { this.model = model; }
    key(id) { return `${this.model}:${id}`; }
    async upsert(id, payload, expiresIn) {
      store.set(this.key(id), { payload, expiresAt: expiresIn ? Date.now() + expiresIn * 1000 : Infinity });
    }
    async find(id) { return live(this.key(id)); }
    async findByUid(uid) {
      for (const k of store.keys()) if (k.startsWith(`${this.model}:`) && live(k)?.uid === uid) return live(k);
      return undefined;
    }
    async findByUserCode(userCode) {
      for (const k of store.keys()) if (k.startsWith(`${this.model}:`) && live(k)?.userCode === userCode) return live(k);
      return undefined;
    }
    async consume(id) { const p = live(this.key(id)); if (p) p.consumed = Math.floor(Date.now() / 1000); }
    async destroy(id) { store.delete(this.key(id)); }
    async revokeByGrantId(grantId) {
      for (const [k, e] of store) if (e.payload.grantId === grantId) store.delete(k);
    }
  };
}

function sameEndpoint(registered, url) {
  const r = new URL(registered);
  return r.origin === url.origin && r.pathname === url.pathname;
}

/** Just enough of a cookie jar for one host: honours Path, Max-Age and Expires. */
class CookieJar {
  cookies = new Map(); // `${name};${path}` -> { name, value, path, expires }

  store(url, setCookies) {
    for (const line of setCookies) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      let path = url.pathname.replace(/\/[^/]*$/, '') || '/';
      let expires = Infinity;
      for (const a of attrs) {
        const [k, ...v] = a.trim().split('=');
        const val = v.join('=');
        if (/^path$/i.test(k)) path = val || '/';
        else if (/^max-age$/i.test(k)) expires = Date.now() + Number(val) * 1000;
        else if (/^expires$/i.test(k) && expires === Infinity) expires = Date.parse(val);
      }
      const key = `${name};${path}`;
      if (expires <= Date.now()) this.cookies.delete(key);
      else this.cookies.set(key, { name, value, path, expires });
    }
  }

  header(url) {
    const now = Date.now();
    return [...this.cookies.values()]
      .filter((c) => c.expires > now && (url.pathname === c.path || url.pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`)))
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
  }
}
