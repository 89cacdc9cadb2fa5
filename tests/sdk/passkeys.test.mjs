// End-to-end: passkeys (WebAuthn), Kiln's addition to PocketBase's API (PocketBase has no such
// endpoints, so unlike the other files this one does not pass against the PocketBase binary).
// A real headless Chromium (Debian's `chromium`, driven by playwright-core, services/browser.mjs)
// with Chrome's virtual authenticator does the ceremonies; the SDK does everything else.
//
//   cd tests/sdk && node --test passkeys.test.mjs
//   KILN_WEBAUTHN_FALLBACK=1 node --test passkeys.test.mjs   # every page without parse*FromJSON/toJSON
//   CHROMIUM_BIN=/path/to/chrome node --test passkeys.test.mjs
//
// The page is http://localhost:PORT/__passkey_test__.html on the server's own port (served by
// playwright), so WebAuthn has a secure context and the RP id `localhost`, and the page's API calls
// go to the server same-origin. The server derives the RP id and the allowed origin from
// meta.appURL, which test 0 sets to that origin.
//
// The tests run in order and share one server, one browser and the state below.
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { ClientResponseError, getTokenPayload } from 'pocketbase';
import { startServer } from './server.mjs';
import { newClient, newSuperuser, rejects, suite } from './helpers.mjs';
import { cdpToB64url, launchBrowser } from './services/browser.mjs';

const APP_NAME = 'Kiln Passkeys';
const PASSWORD = 'Secret-pass-123';
const FAILED_AUTH = 'Failed to authenticate.';
const B64URL = /^[A-Za-z0-9_-]+$/;

let server;
let browser;
const { it, failed } = suite(60_000);
const client = () => newClient(server.url);
const superuser = () => newSuperuser(server.url);
let origin; // http://localhost:<server port>

// shared state
let usersCollection;
const people = {}; // alice, bob, carol (users), mia (members): { record, pb }
let tab; // Alice's page and its virtual authenticator
let registration; // test 1: { begin, credential, finishBody, record }
let signInBody; // test 3: the body of a successful auth-with-passkey

before(async () => {
  server = await startServer();
  origin = `http://localhost:${new URL(server.url).port}`;
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close().catch((e) => console.error(`closing the browser: ${e}`));
  if (!server) return;
  if (failed()) {
    if (browser) console.error(browser.logs());
    console.error(server.logs());
    console.error(`(server temp dir kept at ${server.root})`);
  }
  await server.stop({ keep: failed() });
});





/** Creates an auth record with PASSWORD and signs it in: { record, pb }. */
async function account(collection, email, name) {
  const su = await superuser();
  const record = await su.collection(collection).create({ email, password: PASSWORD, passwordConfirm: PASSWORD, name });
  const pb = client();
  await pb.collection(collection).authWithPassword(email, PASSWORD);
  return { record, pb };
}

/** Fails with a clear message when an earlier test did not leave what this one builds on. */
function needs(value, what) {
  assert.ok(value, `needs ${what}, which did not complete (see the first failure above)`);
  return value;
}

const path = (collection, action) => `/api/collections/${collection}/${action}`;
const show = (res) => `${res.status} ${JSON.stringify(res.body)}`;

/** Asserts a 200 from the page's fetch and returns its body. */
function ok(res, what) {
  assert.equal(res.status, 200, `${what}: ${show(res)}`);
  return res.body;
}

/** Asserts PocketBase's error envelope with `status` (and `message` if given). */
function isError(res, status, what, message) {
  assert.equal(res.status, status, `${what}: ${show(res)}`);
  assert.equal(res.body?.status, status, `${what}: envelope ${show(res)}`);
  assert.equal(typeof res.body.message, 'string', `${what}: envelope ${show(res)}`);
  assert.deepEqual(res.body.data, {}, `${what}: envelope ${show(res)}`);
  if (message !== undefined) assert.equal(res.body.message, message, `${what}: ${show(res)}`);
}

/** Asserts a successful create()/get() in the page and returns the credential JSON. */
function ceremonyOk(result, what) {
  assert.ok(result.ok, `${what} failed in the browser: ${JSON.stringify(result.error)} (used ${JSON.stringify(result.used)})`);
  return result.credential;
}

/** register-begin, navigator.credentials.create(), register-finish, all from `page`. */
async function registerPasskey(page, { token, name, collection = 'users' }) {
  const begin = ok(await page.api(path(collection, 'passkeys/register-begin'), {}, token), 'register-begin');
  const created = await page.create(begin.publicKey);
  const credential = ceremonyOk(created, 'navigator.credentials.create()');
  const finishBody = { challengeId: begin.challengeId, name, credential };
  const record = ok(await page.api(path(collection, 'passkeys/register-finish'), finishBody, token), 'register-finish');
  return { begin, created, credential, finishBody, record };
}

/** auth-with-passkey-begin and navigator.credentials.get(): { begin, got, body } (body: for auth-with-passkey). */
async function passkeyAssertion(page, collection = 'users') {
  const begin = ok(await page.api(path(collection, 'auth-with-passkey-begin'), {}), 'auth-with-passkey-begin');
  const got = await page.get(begin.publicKey);
  const credential = ceremonyOk(got, 'navigator.credentials.get()');
  return { begin, got, body: { challengeId: begin.challengeId, credential } };
}

const signIn = (page, body, collection = 'users') => page.api(path(collection, 'auth-with-passkey'), body);

/** The body with one byte of the assertion signature flipped. */
function withFlippedSignature(body) {
  const copy = structuredClone(body);
  const sig = Buffer.from(copy.credential.response.signature, 'base64url');
  sig[sig.length - 1] ^= 0x01;
  copy.credential.response.signature = sig.toString('base64url');
  assert.notEqual(copy.credential.response.signature, body.credential.response.signature);
  return copy;
}

/** A credential JSON (create() or get()) with its clientDataJSON's origin replaced. */
function withClientDataOrigin(credential, newOrigin) {
  const copy = structuredClone(credential);
  const clientData = JSON.parse(Buffer.from(copy.response.clientDataJSON, 'base64url').toString('utf8'));
  clientData.origin = newOrigin;
  copy.response.clientDataJSON = Buffer.from(JSON.stringify(clientData)).toString('base64url');
  return copy;
}

/** The members of a create()/get() JSON that our fallback encoder also writes (for comparing). */
function coreJSON(c) {
  const r = c.response;
  const response = r.attestationObject
    ? { clientDataJSON: r.clientDataJSON, attestationObject: r.attestationObject, transports: r.transports }
    : { clientDataJSON: r.clientDataJSON, authenticatorData: r.authenticatorData, signature: r.signature, userHandle: r.userHandle };
  return { id: c.id, rawId: c.rawId, type: c.type, authenticatorAttachment: c.authenticatorAttachment, response };
}

// ---------------------------------------------------------------------------------------------

it('0. setup: appURL on the localhost origin, a second auth collection, accounts, the browser page', async (t) => {
  const su = await superuser();
  const saved = await su.settings.update({ meta: { appName: APP_NAME, appURL: origin } });
  assert.equal(saved.meta.appURL, origin);
  assert.equal(saved.meta.appName, APP_NAME);
  usersCollection = await su.collections.getOne('users');

  const members = await su.collections.create({ name: 'members', type: 'auth', fields: [{ name: 'name', type: 'text' }] });
  assert.equal(members.type, 'auth');

  people.alice = await account('users', 'alice@example.com', 'Alice Anders');
  people.bob = await account('users', 'bob@example.com', 'Bob Brown');
  people.mia = await account('members', 'mia@example.com', 'Mia Member');

  tab = await browser.openPage({ origin, label: 'alice' });
  t.diagnostic(`chromium ${browser.version}; page ${JSON.stringify(tab.mode)}`);
  assert.equal(tab.mode.secure, true, `the page is no secure context: ${JSON.stringify(tab.mode)}`);
  assert.equal(tab.mode.origin, origin);
  // the page reaches the real server, same-origin
  const health = await tab.page.evaluate(async () => {
    const res = await fetch('/api/health');
    return { status: res.status, body: await res.json() };
  });
  assert.equal(health.status, 200, JSON.stringify(health));
  assert.equal(health.body.code ?? health.body.status, 200, JSON.stringify(health));
});

it('1. register: 401 without auth, 403 for another collection; create() in the browser; _passkeys lists it', async () => {
  needs(tab, 'test 0 (setup)');
  const alice = people.alice;
  // guards: auth is required, and it must be a record of the collection in the path
  isError(await tab.api(path('users', 'passkeys/register-begin'), {}), 401, 'register-begin without auth');
  isError(await tab.api(path('users', 'passkeys/register-begin'), {}, people.mia.pb.authStore.token), 403, 'register-begin as a members record');
  isError(await tab.api(path('users', 'passkeys/register-finish'), { challengeId: 'x', credential: {} }), 401, 'register-finish without auth');

  registration = await registerPasskey(tab, { token: alice.pb.authStore.token, name: 'Alice laptop' });
  const { begin, credential, record } = registration;

  // the options, exactly as parseCreationOptionsFromJSON takes them
  assert.equal(typeof begin.challengeId, 'string');
  assert.ok(begin.challengeId.length > 0);
  const pk = begin.publicKey;
  assert.deepEqual(pk.rp, { id: 'localhost', name: APP_NAME });
  assert.match(pk.user.id, B64URL);
  assert.equal(pk.user.name, 'alice@example.com');
  assert.equal(pk.user.displayName, 'Alice Anders');
  assert.match(pk.challenge, B64URL);
  assert.ok(Buffer.from(pk.challenge, 'base64url').length >= 16, `challenge too short: ${pk.challenge}`);
  assert.deepEqual(pk.pubKeyCredParams, [-7, -8, -257].map((alg) => ({ type: 'public-key', alg })));
  assert.equal(pk.timeout, 300000);
  assert.deepEqual(pk.excludeCredentials ?? [], []); // nothing registered yet
  assert.equal(pk.authenticatorSelection.residentKey, 'required');
  assert.equal(pk.authenticatorSelection.requireResidentKey, true);
  assert.equal(pk.authenticatorSelection.userVerification, 'preferred');
  assert.equal(pk.attestation, 'none');

  // what the browser sent
  assert.equal(credential.type, 'public-key');
  assert.equal(credential.id, credential.rawId);
  assert.match(credential.id, B64URL);
  assert.equal(registration.created.used.toJSON, tab.mode.native.toJSON ? 'native' : 'fallback');
  if (tab.mode.native.toJSON) {
    // the page's own encoder (the fallback test's) agrees with the browser's toJSON()
    assert.deepEqual(coreJSON(registration.created.fallbackJSON), coreJSON(credential));
  }

  // the new _passkeys record, as its owner sees it
  assert.equal(record.collectionName, '_passkeys');
  assert.equal(typeof record.collectionId, 'string');
  assert.equal(typeof record.id, 'string');
  assert.equal(record.collectionRef, usersCollection.id);
  assert.equal(record.recordRef, alice.record.id);
  assert.equal(record.credentialId, credential.id);
  assert.equal(record.name, 'Alice laptop');
  assert.equal(typeof record.created, 'string');
  assert.equal(typeof record.updated, 'string');
  assert.equal(record.publicKey, undefined, 'publicKey is hidden');
  assert.equal(record.signCount, undefined, 'signCount is hidden');

  // the SDK lists it
  const list = await alice.pb.collection('_passkeys').getFullList();
  assert.deepEqual(list.map((p) => [p.id, p.name, p.credentialId, p.recordRef]), [[record.id, 'Alice laptop', credential.id, alice.record.id]]);
  assert.equal((await alice.pb.collection('_passkeys').getOne(record.id)).name, 'Alice laptop');

  // the authenticator holds one discoverable credential for localhost with the user handle from begin
  const held = await tab.credentials();
  assert.equal(held.length, 1, JSON.stringify(held));
  assert.equal(cdpToB64url(held[0].credentialId), credential.id);
  assert.equal(held[0].rpId, 'localhost');
  assert.equal(held[0].isResidentCredential, true);
  assert.equal(cdpToB64url(held[0].userHandle), pk.user.id);
});

it('2. register-finish: a challengeId is single use; unknown challenge, wrong challenge, wrong origin → 400', async () => {
  needs(registration, 'test 1 (register)');
  const token = people.alice.pb.authStore.token;
  const finish = (body) => tab.api(path('users', 'passkeys/register-finish'), body, token);

  // the exact body of test 1 again
  isError(await finish(registration.finishBody), 400, 'register-finish replayed');
  isError(await finish({ ...registration.finishBody, challengeId: 'no-such-challenge' }), 400, 'register-finish with an unknown challengeId');

  // a fresh challenge, but the credential answers test 1's challenge
  const begin = ok(await tab.api(path('users', 'passkeys/register-begin'), {}, token), 'register-begin');
  isError(await finish({ challengeId: begin.challengeId, credential: registration.credential }), 400, 'register-finish with another challenge\'s credential');

  // a real create() (on a separate authenticator, so Alice's stays as it is) with its
  // clientDataJSON claiming another origin
  const other = await browser.openPage({ origin, label: 'alice-throwaway' });
  try {
    const begin2 = ok(await other.api(path('users', 'passkeys/register-begin'), {}, token), 'register-begin');
    const created = ceremonyOk(await other.create(begin2.publicKey), 'navigator.credentials.create()');
    const forged = withClientDataOrigin(created, 'http://evil.localhost:1');
    isError(await other.api(path('users', 'passkeys/register-finish'), { challengeId: begin2.challengeId, credential: forged }, token), 400, 'register-finish with a foreign origin');
  } finally {
    await other.close();
  }

  // still just the one passkey
  const list = await people.alice.pb.collection('_passkeys').getFullList();
  assert.deepEqual(list.map((p) => p.id), [registration.record.id]);
});

it('3. sign in with the passkey: begin, get() in the browser, finish; the token is Alice\'s', async () => {
  needs(registration, 'test 1 (register)');
  const alice = people.alice;
  const { begin, got, body } = await passkeyAssertion(tab);
  assert.equal(typeof begin.challengeId, 'string');
  assert.ok(begin.challengeId.length > 0);
  const pk = begin.publicKey;
  assert.match(pk.challenge, B64URL);
  assert.equal(pk.rpId, 'localhost');
  assert.equal(pk.timeout, 300000);
  assert.equal(pk.userVerification, 'preferred');
  assert.deepEqual(pk.allowCredentials, []);

  // the authenticator picked Alice's credential (the only one it has) and sent her user handle
  assert.equal(body.credential.id, registration.credential.id);
  assert.equal(body.credential.response.userHandle, registration.begin.publicKey.user.id);
  if (tab.mode.native.toJSON) {
    // the page's own encoder (the fallback test's) agrees with the browser's toJSON()
    assert.deepEqual(coreJSON(got.fallbackJSON), coreJSON(body.credential));
  }

  const res = await signIn(tab, body);
  const auth = ok(res, 'auth-with-passkey');
  signInBody = body;
  assert.equal(typeof auth.token, 'string');
  assert.equal(auth.record.id, alice.record.id);
  assert.equal(auth.record.collectionName, 'users');
  assert.equal(auth.record.email, 'alice@example.com');
  const payload = getTokenPayload(auth.token);
  assert.equal(payload.id, alice.record.id);
  assert.equal(payload.collectionId, usersCollection.id);
  assert.equal(payload.type, 'auth');

  // the SDK takes the token like any other auth response, and the server accepts it
  const pb = client();
  pb.authStore.save(auth.token, auth.record);
  assert.equal(pb.authStore.isValid, true);
  const refreshed = await pb.collection('users').authRefresh();
  assert.equal(refreshed.record.id, alice.record.id);
  assert.equal((await pb.collection('_passkeys').getFullList()).length, 1);
});

it('4. auth-with-passkey: the same challengeId cannot be used twice; unknown challenge → 400', async () => {
  needs(signInBody, 'test 3 (sign in)');
  isError(await signIn(tab, signInBody), 400, 'auth-with-passkey replayed', FAILED_AUTH);
  isError(await signIn(tab, { ...signInBody, challengeId: 'no-such-challenge' }), 400, 'unknown challengeId', FAILED_AUTH);
  isError(await signIn(tab, { challengeId: signInBody.challengeId }), 400, 'no credential', FAILED_AUTH);
});

it('5. a tampered assertion, or a passkey of another collection → 400; an untampered one still works', async () => {
  needs(registration, 'test 1 (register)');
  const { body } = await passkeyAssertion(tab);
  isError(await signIn(tab, withFlippedSignature(body)), 400, 'auth-with-passkey with a flipped signature byte', FAILED_AUTH);

  // Alice's users passkey presented to the members collection
  const asMember = await passkeyAssertion(tab, 'members');
  assert.equal(asMember.body.credential.id, registration.credential.id);
  isError(await signIn(tab, asMember.body, 'members'), 400, 'a users passkey at members/auth-with-passkey', FAILED_AUTH);

  // the 400s were about the tampering, not the passkey
  const fresh = await passkeyAssertion(tab);
  assert.equal(ok(await signIn(tab, fresh.body), 'auth-with-passkey').record.id, people.alice.record.id);
});

it('6. excludeCredentials: a second register-begin lists the first credential; the authenticator refuses it', async () => {
  needs(registration, 'test 1 (register)');
  const token = people.alice.pb.authStore.token;
  const begin = ok(await tab.api(path('users', 'passkeys/register-begin'), {}, token), 'second register-begin');
  const excluded = begin.publicKey.excludeCredentials ?? [];
  assert.ok(
    excluded.some((d) => d.type === 'public-key' && d.id === registration.credential.id),
    `excludeCredentials ${JSON.stringify(excluded)} lacks ${registration.credential.id}`,
  );
  assert.equal(begin.publicKey.user.id, registration.begin.publicKey.user.id, 'the user handle is stable');

  // the browser matches the ids and will not register a second credential on this authenticator
  const result = await tab.create(begin.publicKey);
  assert.equal(result.ok, false, `create() succeeded despite excludeCredentials: ${JSON.stringify(result.credential)}`);
  assert.equal(result.error.name, 'InvalidStateError', JSON.stringify(result.error));
  assert.equal((await tab.credentials()).length, 1);
});

it('7. _passkeys: others see and delete nothing; the owner deletes it; then signing in with it fails', async () => {
  needs(registration, 'test 1 (register)');
  const { alice, bob } = people;
  const id = registration.record.id;

  assert.deepEqual(await bob.pb.collection('_passkeys').getFullList(), []);
  await rejects(() => bob.pb.collection('_passkeys').getOne(id), 404);
  await rejects(() => bob.pb.collection('_passkeys').delete(id), 404);
  assert.deepEqual((await client().collection('_passkeys').getList(1, 50)).items, []); // guests
  let guestDelete;
  try {
    await client().collection('_passkeys').delete(id);
  } catch (e) {
    guestDelete = e;
  }
  assert.ok(guestDelete instanceof ClientResponseError, `a guest deleted ${id}: ${guestDelete}`);
  assert.ok([401, 403, 404].includes(guestDelete.status), `guest delete: ${guestDelete.status} ${JSON.stringify(guestDelete.response)}`);
  const su = await superuser();
  assert.equal((await su.collection('_passkeys').getOne(id)).recordRef, alice.record.id, 'still there');

  assert.equal(await alice.pb.collection('_passkeys').delete(id), true);
  assert.deepEqual(await alice.pb.collection('_passkeys').getFullList(), []);
  await rejects(() => su.collection('_passkeys').getOne(id), 404);

  // the authenticator still has the credential and signs with it; the server no longer knows it
  const { body } = await passkeyAssertion(tab);
  assert.equal(body.credential.id, registration.credential.id);
  isError(await signIn(tab, body), 400, 'auth-with-passkey with a deleted passkey', FAILED_AUTH);

  // Alice can still sign in with her password
  await client().collection('users').authWithPassword('alice@example.com', PASSWORD);
});

it('8. fallback (no parse*FromJSON, no toJSON): register and sign in', async () => {
  needs(people.alice, 'test 0 (setup)');
  const carol = await account('users', 'carol@example.com', 'Carol Chen');
  const page = await browser.openPage({ origin, fallback: true, label: 'carol-fallback' });
  try {
    assert.deepEqual(page.mode.native, { parseCreationOptionsFromJSON: false, parseRequestOptionsFromJSON: false, toJSON: false });

    const reg = await registerPasskey(page, { token: carol.pb.authStore.token, name: 'Carol phone' });
    assert.equal(reg.record.recordRef, carol.record.id);
    assert.equal(reg.record.credentialId, reg.credential.id);
    assert.equal(reg.record.name, 'Carol phone');
    // the fallback sends the minimal form: no publicKey/authenticatorData convenience members
    const members = Object.keys(reg.credential.response).filter((k) => k !== 'transports').sort();
    assert.deepEqual(members, ['attestationObject', 'clientDataJSON']);
    const mine = await carol.pb.collection('_passkeys').getFullList();
    assert.deepEqual(mine.map((p) => [p.id, p.name]), [[reg.record.id, 'Carol phone']]);

    const { body } = await passkeyAssertion(page);
    assert.equal(body.credential.id, reg.credential.id);
    assert.equal(body.credential.response.userHandle, reg.begin.publicKey.user.id);
    const auth = ok(await signIn(page, body), 'auth-with-passkey');
    assert.equal(auth.record.id, carol.record.id);
    const pb = client();
    pb.authStore.save(auth.token, auth.record);
    assert.equal((await pb.collection('users').authRefresh()).record.id, carol.record.id);
  } finally {
    await page.close();
  }
});
