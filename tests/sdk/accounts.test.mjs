// End-to-end: account flows (mail, OTP, MFA, OAuth2, impersonation, rate limits, login alerts)
// driven by the official PocketBase JS SDK against a real server, with a real SMTP server
// (services/smtp.mjs) and a real OpenID Connect provider (services/oidc.mjs) on loopback.
// Expected behaviour is PocketBase 0.40's; the file passes against the real PocketBase binary:
//   cd tests/sdk && KILN_BIN=$(which pocketbase) node --test accounts.test.mjs
//
// The tests run in order and share one server; test 1 configures SMTP for all the others.
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import PocketBase, { ClientResponseError, getTokenPayload } from 'pocketbase';
import { startServer } from './server.mjs';
import { newClient, newSuperuser, rejects, suite } from './helpers.mjs';
import { startSmtp } from './services/smtp.mjs';
import { startOidc } from './services/oidc.mjs';

const APP_URL = 'https://accounts.kiln.test';
const APP_NAME = 'Kiln Accounts';
const SENDER = { name: 'Kiln Mailer', address: 'noreply@kiln.test' };
const SMTP_AUTH = { username: 'kiln-smtp', password: 'smtp-secret-123' };
const PASSWORD = 'Secret-pass-123';

let server;
let smtp;
let oidc;
let redirectURL; // where the OIDC provider sends the browser back (PocketBase's own redirect page)
const { it, failed } = suite(60_000);
const client = () => newClient(server.url);
const superuser = () => newSuperuser(server.url);

before(async () => {
  server = await startServer();
  smtp = await startSmtp();
  redirectURL = `${server.url}/api/oauth2-redirect`;
  oidc = await startOidc({ redirectUris: [redirectURL] });
});

after(async () => {
  await oidc?.stop();
  await smtp?.stop();
  if (!server) return;
  if (failed()) {
    console.error(server.logs());
    console.error(`(server temp dir kept at ${server.root})`);
  }
  await server.stop({ keep: failed() });
});





/** Creates a users record with PASSWORD (as a guest, like a sign-up form). */
async function signUp(email, name = email.split('@')[0]) {
  return client().collection('users').create({ email, password: PASSWORD, passwordConfirm: PASSWORD, name });
}

async function login(email, password = PASSWORD) {
  const pb = client();
  await pb.collection('users').authWithPassword(email, password);
  return pb;
}

const mailTo = (addr, subject) => (m) => m.to.includes(addr) && (!subject || subject.test(m.subject));
const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The token from a `{APP_URL}/_/#/auth/<action>/{TOKEN}` link in the mail's html. */
function linkToken(mail, action) {
  const m = mail.html.match(new RegExp(`${escapeRe(APP_URL)}/_/#/auth/${action}/([A-Za-z0-9_.-]+)`));
  assert.ok(m, `no ${action} link in:\n${mail.html}`);
  return m[1];
}

/** The OTP code from the default otp template (`<strong>{OTP}</strong>`). */
function otpCode(mail) {
  const m = mail.html.match(/<strong>(\d+)<\/strong>/);
  assert.ok(m, `no OTP code in:\n${mail.html}`);
  return m[1];
}

let fences = 0;
/**
 * Sends a test mail (delivered synchronously by the settings API) and waits for it. Mails from the
 * request-* endpoints are sent in the background: anything queued before the fence has had its
 * chance to arrive once the fence is in.
 */
async function fence() {
  const to = `fence-${++fences}@kiln.test`;
  await (await superuser()).settings.testEmail('users', to, 'verification');
  await smtp.waitFor(mailTo(to));
}

/** Asserts that no mail has been sent to `addr` (after a fence). */
async function assertNoMailTo(addr) {
  await fence();
  assert.deepEqual(smtp.messages.filter(mailTo(addr)).map((m) => m.subject), [], `mail sent to ${addr}`);
}

// ---------------------------------------------------------------------------------------------

it('1. settings: SMTP + meta, test email is delivered', async () => {
  const su = await superuser();
  const saved = await su.settings.update({
    meta: { appName: APP_NAME, appURL: APP_URL, senderName: SENDER.name, senderAddress: SENDER.address },
    smtp: {
      enabled: true,
      host: smtp.host,
      port: smtp.port,
      tls: false,
      authMethod: 'PLAIN',
      username: SMTP_AUTH.username,
      password: SMTP_AUTH.password,
    },
  });
  assert.equal(saved.smtp.enabled, true);
  assert.equal(saved.smtp.host, smtp.host);
  assert.equal(saved.smtp.port, smtp.port);
  assert.equal(saved.smtp.tls, false);
  assert.equal(saved.smtp.username, SMTP_AUTH.username);
  assert.equal(saved.smtp.password, undefined); // secrets are never sent back
  assert.equal(saved.meta.appName, APP_NAME);
  assert.equal(saved.meta.appURL, APP_URL);
  assert.equal(saved.meta.senderAddress, SENDER.address);
  assert.equal((await su.settings.getAll()).smtp.port, smtp.port);

  assert.equal(await su.settings.testEmail('users', 'probe@example.com', 'verification'), true);
  const mail = await smtp.waitFor(mailTo('probe@example.com'));
  assert.deepEqual(mail.to, ['probe@example.com']);
  assert.equal(mail.from, SENDER.address);
  assert.equal(mail.authUser, SMTP_AUTH.username); // PocketBase logged in with the configured credentials
  assert.equal(mail.subject, `Verify your ${APP_NAME} email`);
  assert.equal(mail.headers.get('from').value[0].address, SENDER.address);
  assert.equal(mail.headers.get('from').value[0].name, SENDER.name);
  assert.match(mail.html, new RegExp(`${escapeRe(APP_URL)}/_/#/auth/confirm-verification/`));

  // an unknown template name is a validation error
  await rejects(() => su.settings.testEmail('users', 'probe@example.com', 'no-such-template'), 400);
});

it('2. verification: request, mail link, confirm, reuse, unknown email', async () => {
  const user = await signUp('vera@example.com');
  assert.equal(user.verified, false);

  assert.equal(await client().collection('users').requestVerification('vera@example.com'), true);
  const mail = await smtp.waitFor(mailTo('vera@example.com', /^Verify your/));
  assert.equal(mail.subject, `Verify your ${APP_NAME} email`);
  assert.equal(mail.from, SENDER.address);
  const token = linkToken(mail, 'confirm-verification');

  assert.equal(await client().collection('users').confirmVerification(token), true);
  const su = await superuser();
  assert.equal((await su.collection('users').getOne(user.id)).verified, true);
  assert.equal((await login('vera@example.com')).authStore.record.verified, true);

  // PocketBase: reusing the token of an already verified user is a harmless no-op (204 again)
  assert.equal(await client().collection('users').confirmVerification(token), true);
  assert.equal((await su.collection('users').getOne(user.id)).verified, true);

  // a garbage token is rejected
  await rejects(() => client().collection('users').confirmVerification('not-a-token'), 400);

  // unknown email and already verified users: 204 (no account enumeration), no mail
  assert.equal(await client().collection('users').requestVerification('ghost@example.com'), true);
  assert.equal(await client().collection('users').requestVerification('vera@example.com'), true);
  await assertNoMailTo('ghost@example.com');
  assert.equal(smtp.messages.filter(mailTo('vera@example.com')).length, 1);
});

it('3. password reset: mail, confirm, old password and old tokens stop working', async () => {
  const user = await signUp('pat@example.com');
  const oldSession = await login('pat@example.com');
  const NEW = 'Brand-new-pass-456';

  assert.equal(await client().collection('users').requestPasswordReset('pat@example.com'), true);
  const mail = await smtp.waitFor(mailTo('pat@example.com', /^Reset your/));
  assert.equal(mail.subject, `Reset your ${APP_NAME} password`);
  const token = linkToken(mail, 'confirm-password-reset');

  // mismatching confirmation: validation error, the token stays usable
  const bad = await rejects(() => client().collection('users').confirmPasswordReset(token, NEW, 'something-else'), 400);
  assert.ok(bad.response.data.passwordConfirm, JSON.stringify(bad.response));

  assert.equal(await client().collection('users').confirmPasswordReset(token, NEW, NEW), true);

  await rejects(() => login('pat@example.com'), 400);
  const fresh = await login('pat@example.com', NEW);
  assert.equal(fresh.authStore.record.id, user.id);

  // the token is single use: the password change invalidated it
  await rejects(() => client().collection('users').confirmPasswordReset(token, 'Third-pass-789', 'Third-pass-789'), 400);
  // ... and so are auth tokens issued before the reset
  await rejects(() => oldSession.collection('users').authRefresh(), 401);
  await fresh.collection('users').authRefresh();

  // unknown email: 204, no mail
  assert.equal(await client().collection('users').requestPasswordReset('ghost-reset@example.com'), true);
  await assertNoMailTo('ghost-reset@example.com');
});

it('4. email change: mail to the new address, confirm with password, login by new email', async () => {
  const user = await signUp('emil@example.com');
  const pb = await login('emil@example.com');
  const NEW_EMAIL = 'emil.new@example.com';

  // requires an authenticated record
  await rejects(() => client().collection('users').requestEmailChange(NEW_EMAIL), 401);

  assert.equal(await pb.collection('users').requestEmailChange(NEW_EMAIL), true);
  const mail = await smtp.waitFor(mailTo(NEW_EMAIL));
  assert.deepEqual(mail.to, [NEW_EMAIL]);
  assert.equal(mail.subject, `Confirm your ${APP_NAME} new email address`);
  const token = linkToken(mail, 'confirm-email-change');
  assert.equal(smtp.messages.filter(mailTo('emil@example.com')).length, 0, 'nothing is sent to the old address');

  await rejects(() => client().collection('users').confirmEmailChange(token, 'wrong-password'), 400);
  assert.equal(await client().collection('users').confirmEmailChange(token, PASSWORD), true);

  const renamed = await login(NEW_EMAIL);
  assert.equal(renamed.authStore.record.id, user.id);
  assert.equal(renamed.authStore.record.email, NEW_EMAIL);
  assert.equal(renamed.authStore.record.verified, true); // proving the new address verifies it
  await rejects(() => login('emil@example.com'), 400);
});

it('5. OTP: enable, request, code from mail, auth, wrong code, unknown email', async () => {
  const su = await superuser();
  const user = await signUp('otto@example.com');

  // disabled by default
  await rejects(() => client().collection('users').requestOTP('otto@example.com'), 403);

  const col = await su.collections.update('users', { otp: { enabled: true } });
  assert.equal(col.otp.enabled, true);
  const methods = await client().collection('users').listAuthMethods();
  assert.equal(methods.otp.enabled, true);
  // the SDK asks for these keys only (fields=mfa,otp,password,oauth2), as PocketBase answers
  assert.deepEqual(Object.keys(methods).sort(), ['mfa', 'oauth2', 'otp', 'password']);

  const { otpId } = await client().collection('users').requestOTP('otto@example.com');
  assert.equal(typeof otpId, 'string');
  assert.ok(otpId.length > 0);
  const mail = await smtp.waitFor(mailTo('otto@example.com', /^OTP for/));
  assert.equal(mail.subject, `OTP for ${APP_NAME}`);
  const code = otpCode(mail);
  assert.equal(code.length, col.otp.length);

  const wrong = code === '00000000'.slice(0, code.length) ? '11111111'.slice(0, code.length) : '00000000'.slice(0, code.length);
  await rejects(() => client().collection('users').authWithOTP(otpId, wrong), 400);

  const pb = client();
  const auth = await pb.collection('users').authWithOTP(otpId, code);
  assert.equal(typeof auth.token, 'string');
  assert.equal(auth.record.id, user.id);
  assert.equal(auth.record.email, 'otto@example.com');
  assert.equal(pb.authStore.isValid, true);
  // PocketBase: a successful OTP proves the email, so the record becomes verified; as the account
  // was unverified (and MFA is off) its password is also replaced by a random one, to stop
  // pre-registration hijacking. The old password no longer works.
  assert.equal(auth.record.verified, true);
  await rejects(() => login('otto@example.com'), 400);

  // an OTP is single use
  await rejects(() => client().collection('users').authWithOTP(otpId, code), 400);

  // unknown email: still an otpId (no account enumeration), but no mail and nothing to log into
  const ghost = await client().collection('users').requestOTP('ghost-otp@example.com');
  assert.equal(typeof ghost.otpId, 'string');
  assert.ok(ghost.otpId.length > 0);
  await assertNoMailTo('ghost-otp@example.com');
  await rejects(() => client().collection('users').authWithOTP(ghost.otpId, code), 400);
});

it('6. MFA: password then OTP with mfaId', async () => {
  const su = await superuser();
  const user = await signUp('mfa@example.com');
  const col = await su.collections.update('users', { mfa: { enabled: true }, otp: { enabled: true } });
  assert.equal(col.mfa.enabled, true);
  try {
    assert.equal((await client().collection('users').listAuthMethods()).mfa.enabled, true);

    // first factor: the password is right, but the answer is 401 with an mfaId (the whole body)
    const err = await rejects(() => login('mfa@example.com'), 401);
    const { mfaId } = err.response;
    assert.equal(typeof mfaId, 'string', JSON.stringify(err.response));
    assert.ok(mfaId.length > 0);

    // second factor: OTP, passing the mfaId
    const { otpId } = await client().collection('users').requestOTP('mfa@example.com');
    const code = otpCode(await smtp.waitFor(mailTo('mfa@example.com', /^OTP for/)));
    const pb = client();
    const auth = await pb.collection('users').authWithOTP(otpId, code, { mfaId });
    assert.equal(auth.record.id, user.id);
    assert.equal(typeof auth.token, 'string');
    assert.equal(pb.authStore.isValid, true);
    assert.equal((await pb.collection('users').getOne(user.id)).id, user.id);

    // the mfaId was consumed
    const seen = smtp.messages.length;
    const { otpId: otp2 } = await client().collection('users').requestOTP('mfa@example.com');
    const code2 = otpCode(await smtp.waitFor((m, i) => i >= seen && mailTo('mfa@example.com', /^OTP for/)(m)));
    await rejects(() => client().collection('users').authWithOTP(otp2, code2, { mfaId }), 400);
  } finally {
    await su.collections.update('users', { mfa: { enabled: false } });
  }
  // without MFA the password alone is enough again
  assert.equal((await login('mfa@example.com')).authStore.record.id, user.id);
});

it('7. OAuth2 with an OpenID Connect provider: sign up, sign in, external auths, unlink', async () => {
  const su = await superuser();
  const d = oidc.discovery;
  const col = await su.collections.update('users', {
    oauth2: {
      enabled: true,
      providers: [{
        name: 'oidc',
        clientId: oidc.clientId,
        clientSecret: oidc.clientSecret,
        authURL: d.authorization_endpoint,
        tokenURL: d.token_endpoint,
        userInfoURL: d.userinfo_endpoint,
        displayName: 'Kiln OIDC',
        pkce: true,
      }],
    },
  });
  assert.equal(col.oauth2.enabled, true);
  assert.equal(col.oauth2.providers.length, 1);
  assert.equal(col.oauth2.providers[0].name, 'oidc');
  assert.equal(col.oauth2.providers[0].clientId, oidc.clientId);
  assert.equal(col.oauth2.providers[0].clientSecret, undefined); // never sent back

  /** listAuthMethods -> provider redirect -> code -> authWithOAuth2Code, like the SDK's browser flow. */
  async function signIn(pb, createData) {
    const methods = await client().collection('users').listAuthMethods();
    assert.equal(methods.oauth2.enabled, true);
    const p = methods.oauth2.providers.find((x) => x.name === 'oidc');
    assert.ok(p, JSON.stringify(methods.oauth2));
    assert.equal(p.displayName, 'Kiln OIDC');
    assert.ok(p.state && p.codeVerifier && p.codeChallenge, JSON.stringify(p));
    assert.equal(p.codeChallengeMethod, 'S256');
    assert.ok(p.authURL.startsWith(`${d.authorization_endpoint}?`), p.authURL);
    assert.ok(p.authURL.endsWith('&redirect_uri='), p.authURL); // the client appends its redirect URL
    const q = new URL(p.authURL).searchParams;
    assert.equal(q.get('client_id'), oidc.clientId);
    assert.equal(q.get('response_type'), 'code');
    assert.equal(q.get('state'), p.state);
    assert.equal(q.get('code_challenge'), p.codeChallenge);

    const { code, state } = await oidc.authorize(p.authURL + encodeURIComponent(redirectURL));
    assert.equal(state, p.state);
    assert.ok(code);
    return pb.collection('users').authWithOAuth2Code('oidc', code, p.codeVerifier, redirectURL, createData);
  }

  const first = client();
  const created = await signIn(first, { emailVisibility: true });
  assert.equal(created.meta.isNew, true);
  assert.equal(created.meta.id, oidc.account.sub);
  assert.equal(created.meta.email, oidc.account.email);
  assert.equal(created.meta.name, oidc.account.name);
  assert.equal(created.meta.username, oidc.account.preferred_username);
  assert.equal(typeof created.meta.accessToken, 'string');
  assert.equal(created.meta.rawUser.sub, oidc.account.sub);
  assert.equal(created.record.email, oidc.account.email);
  assert.equal(created.record.name, oidc.account.name); // default mappedFields: name -> name
  assert.equal(created.record.emailVisibility, true); // from createData
  assert.equal(created.record.verified, true); // the provider vouched for the email
  assert.equal(first.authStore.isValid, true);
  assert.equal(first.authStore.record.id, created.record.id);

  const again = await signIn(client());
  assert.equal(again.meta.isNew, false);
  assert.equal(again.record.id, created.record.id);

  const links = await first.collection('users').listExternalAuths(created.record.id);
  assert.equal(links.length, 1);
  assert.equal(links[0].provider, 'oidc');
  assert.equal(links[0].providerId, oidc.account.sub);
  assert.equal(links[0].recordRef, created.record.id);
  assert.equal(links[0].collectionRef, col.id);
  const viaCollection = await su.collection('_externalAuths').getFullList({
    filter: su.filter('recordRef = {:id}', { id: created.record.id }),
  });
  assert.deepEqual(viaCollection.map((x) => x.id), [links[0].id]);

  assert.equal(await first.collection('users').unlinkExternalAuth(created.record.id, 'oidc'), true);
  assert.deepEqual(await first.collection('users').listExternalAuths(created.record.id), []);
  assert.equal((await su.collection('_externalAuths').getFullList()).length, 0);

  // an unknown provider name is rejected before anything is fetched
  await rejects(() => client().collection('users').authWithOAuth2Code('github', 'x', 'y', redirectURL), 400);
});

it('8. impersonate: superuser-only, token acts as the user, not refreshable', async () => {
  const user = await signUp('imp@example.com');
  const other = await signUp('imp-other@example.com');
  const su = await superuser();

  const imp = await su.collection('users').impersonate(user.id, 3600);
  assert.ok(imp instanceof PocketBase);
  assert.equal(imp.authStore.isValid, true);
  assert.equal(imp.authStore.isSuperuser, false);
  assert.equal(imp.authStore.record.id, user.id);
  const payload = getTokenPayload(imp.authStore.token);
  const ttl = payload.exp - Math.floor(Date.now() / 1000);
  assert.ok(ttl > 3500 && ttl <= 3600, `exp in ${ttl}s`);

  // acts as the user: users.viewRule is `id = @request.auth.id`
  assert.equal((await imp.collection('users').getOne(user.id)).email, 'imp@example.com');
  await rejects(() => imp.collection('users').getOne(other.id), 404);

  // PocketBase: refreshing an impersonation (static) token does not fail; it answers 200 with the
  // same token, i.e. the token cannot be extended.
  const token = imp.authStore.token;
  await new Promise((r) => setTimeout(r, 1100)); // a refreshable token would get a new exp now
  const refreshed = await imp.collection('users').authRefresh();
  assert.equal(refreshed.token, token);
  assert.equal(refreshed.record.id, user.id);

  // only superusers may impersonate
  const asUser = await login('imp@example.com');
  await rejects(() => asUser.collection('users').impersonate(other.id, 3600), 403);
  await rejects(() => client().collection('users').impersonate(other.id, 3600), 401); // guests: 401
});

it('9. rate limits: *:auth rule answers 429 to a burst, off again afterwards', async () => {
  const su = await superuser();
  await signUp('burst@example.com');
  const original = (await su.settings.getAll()).rateLimits;
  // PocketBase ships rate limits switched off; Kiln ships them on (a `*:auth` rule). Either way
  // the test sets its own rule and switches limits off at the end.
  assert.equal(typeof original.enabled, 'boolean');

  const saved = await su.settings.update({
    rateLimits: { enabled: true, rules: [{ label: '*:auth', maxRequests: 2, duration: 3 }] },
  });
  assert.equal(saved.rateLimits.enabled, true);
  assert.deepEqual(saved.rateLimits.rules.map((r) => [r.label, r.maxRequests, r.duration]), [['*:auth', 2, 3]]);
  try {
    const statuses = [];
    for (let i = 0; i < 4; i++) {
      try {
        await login('burst@example.com');
        statuses.push(200);
      } catch (e) {
        assert.ok(e instanceof ClientResponseError, String(e));
        statuses.push(e.status);
        if (e.status === 429) assert.equal(e.response.status, 429);
      }
    }
    // fixed window: the first two pass, the third (well within 3 s) is refused
    assert.deepEqual(statuses.slice(0, 3), [200, 200, 429]);
    // requests carrying a superuser token are never rate limited
    const body = { identity: 'burst@example.com', password: PASSWORD };
    const asSu = await su.send('/api/collections/users/auth-with-password', { method: 'POST', body });
    assert.equal(typeof asSu.token, 'string');
  } finally {
    await su.settings.update({ rateLimits: { enabled: false, rules: original.rules } });
  }
  assert.equal((await su.settings.getAll()).rateLimits.enabled, false);
  for (let i = 0; i < 3; i++) await login('burst@example.com'); // no limit any more
});

it('10. auth alert: a login from a new user agent sends "Login from a new location"', async () => {
  // Enabled by default for auth collections. PocketBase fingerprints each login by client IP +
  // User-Agent; the first login ever only records the fingerprint, a later login with a new one
  // mails the user. Everything here comes from 127.0.0.1, so the User-Agent is what varies.
  const su = await superuser();
  assert.equal((await su.collections.getOne('users')).authAlert.enabled, true);
  await signUp('alert@example.com');
  const subject = /^Login from a new location/;

  await login('alert@example.com'); // first login: remembered, no alert
  await login('alert@example.com'); // same fingerprint: no alert
  await assertNoMailTo('alert@example.com');

  const UA = 'KilnTestBrowser/2.0 (alert test)';
  const pb = client();
  await pb.collection('users').authWithPassword('alert@example.com', PASSWORD, { headers: { 'User-Agent': UA } });
  const mail = await smtp.waitFor(mailTo('alert@example.com', subject));
  assert.deepEqual(mail.to, ['alert@example.com']);
  assert.equal(mail.subject, 'Login from a new location');
  assert.ok(mail.html.includes(UA), mail.html);
  assert.ok(mail.html.includes('127.0.0.1'), mail.html);
  assert.ok(mail.html.includes(APP_NAME), mail.html);

  // the new fingerprint is remembered: logging in with it again sends nothing new
  await client().collection('users').authWithPassword('alert@example.com', PASSWORD, { headers: { 'User-Agent': UA } });
  await fence();
  assert.equal(smtp.messages.filter(mailTo('alert@example.com', subject)).length, 1);
});
