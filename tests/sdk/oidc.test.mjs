// End-to-end, Kiln only: an OpenID Connect provider configured by its issuer alone. Kiln reads the
// endpoints from the issuer's discovery document (PocketBase needs every URL typed in). The
// provider is the real oidc-provider of services/oidc.mjs; the flow is the SDK's code flow.
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './server.mjs';
import { newClient, newSuperuser, rejects, suite } from './helpers.mjs';
import { startOidc } from './services/oidc.mjs';
import { pngSize, solidPng } from './services/png.mjs';

let server;
let oidc;
let redirectURL;
const { it, failed } = suite(60_000);
const client = () => newClient(server.url);

const AVATAR = solidPng(64, 48);

before(async () => {
  // Dev mode: the avatar lives on loopback, which production Kiln refuses to fetch (SSRF).
  server = await startServer({ serveArgs: ['--dev'] });
  redirectURL = `${server.url}/api/oauth2-redirect`;
  oidc = await startOidc({ redirectUris: [redirectURL], avatar: AVATAR });
});

after(async () => {
  await oidc?.stop();
  if (!server) return;
  if (failed()) {
    console.error(server.logs());
    console.error(`(server temp dir kept at ${server.root})`);
  }
  await server.stop({ keep: failed() });
});

it('an oidc provider with only extra.issuer signs in through the discovered endpoints', async () => {
  const su = await newSuperuser(server.url);
  await su.collections.update('users', {
    oauth2: {
      enabled: true,
      providers: [{ name: 'oidc', clientId: oidc.clientId, clientSecret: oidc.clientSecret, extra: { issuer: oidc.issuer } }],
    },
  });
  const methods = await client().collection('users').listAuthMethods();
  const p = methods.oauth2.providers.find((x) => x.name === 'oidc');
  assert.ok(p, JSON.stringify(methods.oauth2));
  assert.ok(p.authURL.startsWith(`${oidc.discovery.authorization_endpoint}?`), p.authURL);

  const { code, state } = await oidc.authorize(p.authURL + encodeURIComponent(redirectURL));
  assert.equal(state, p.state);
  const pb = client();
  const auth = await pb.collection('users').authWithOAuth2Code('oidc', code, p.codeVerifier, redirectURL);
  assert.equal(auth.meta.isNew, true);
  assert.equal(auth.meta.id, oidc.account.sub);
  assert.equal(auth.record.email, oidc.account.email);
  assert.equal(auth.record.verified, true);
  assert.equal(pb.authStore.record.id, auth.record.id);
  // mappedFields.avatarURL -> the users collection's `avatar` file field: the picture was
  // downloaded and stored like an upload.
  assert.equal(auth.meta.avatarURL, `${oidc.issuer}/avatar.png`);
  assert.match(auth.record.avatar, /^avatar_[a-z0-9]{10}\.png$/);
  const res = await fetch(pb.files.getURL(auth.record, auth.record.avatar));
  assert.equal(res.status, 200);
  assert.deepEqual(pngSize(Buffer.from(await res.arrayBuffer())), { width: 64, height: 48 });
});

it('a wrong issuer leaves the provider out instead of trusting another server', async () => {
  const su = await newSuperuser(server.url);
  await su.collections.update('users', {
    oauth2: {
      enabled: true,
      providers: [{ name: 'oidc', clientId: oidc.clientId, clientSecret: oidc.clientSecret, extra: { issuer: `${server.url}/not-an-issuer` } }],
    },
  });
  const methods = await client().collection('users').listAuthMethods();
  assert.deepEqual(methods.oauth2.providers, []);
  await rejects(() => client().collection('users').authWithOAuth2Code('oidc', 'code', 'verifier', redirectURL), 400);
});
