// The options of auth collections (sign-in methods, tokens, templates, the test email) and the
// impersonation dialog. Until the collection editor shows them, they are mounted by a small test
// page (fixtures/auth-entry.jsx, bundled here with the dashboard's esbuild) served on the Kiln
// origin through playwright's page.route, so its API calls are same-origin as in the dashboard.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertNoProblems, checkA11y, launchBrowser, openDashboard, REPO, screenshot, startKiln } from './harness.mjs';
import { startSmtp } from '../sdk/services/smtp.mjs';

const UI = join(REPO, 'crates', 'kiln-dashboard', 'ui');
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; connect-src 'self'; base-uri 'none'; frame-ancestors 'none'";
let browser;
let bundleDir;

before(async () => {
  bundleDir = mkdtempSync(join(tmpdir(), 'kiln-auth-fixture-'));
  const r = spawnSync(
    join(UI, 'node_modules', '.bin', 'esbuild'),
    [
      join(REPO, 'tests', 'dashboard', 'fixtures', 'auth-entry.jsx'),
      '--bundle',
      '--format=esm',
      '--jsx=automatic',
      '--jsx-import-source=preact',
      '--loader:.svg=text',
      '--log-level=warning',
      `--outdir=${bundleDir}`,
      '--entry-names=entry',
    ],
    { encoding: 'utf8', env: { ...process.env, NODE_PATH: join(UI, 'node_modules') } },
  );
  if (r.status !== 0) throw new Error(`esbuild failed:\n${r.stderr}`);
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  if (bundleDir) rmSync(bundleDir, { recursive: true, force: true });
});

/** A signed-in page showing the test page for collection `c` (and record `r`). */
async function openOptions(server, { c = 'users', r = '' } = {}) {
  const page = await openDashboard(browser, server);
  await page.getByRole('navigation', { name: 'Main' }).waitFor();
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Auth options</title><link rel="stylesheet" href="entry.css"></head><body><div id="app"></div><script type="module" src="entry.js"></script></body></html>`;
  await page.route(`${server.url}/__auth__/**`, (route) => {
    const file = new URL(route.request().url()).pathname.split('/').pop();
    const types = { 'entry.js': 'text/javascript', 'entry.css': 'text/css' };
    if (types[file]) return route.fulfill({ status: 200, headers: { 'content-type': types[file], 'content-security-policy': CSP }, body: readFileSync(join(bundleDir, file)) });
    return route.fulfill({ status: 200, headers: { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': CSP }, body: html });
  });
  await page.goto(`${server.url}/__auth__/index.html?c=${encodeURIComponent(c)}&r=${encodeURIComponent(r)}`);
  await page.getByRole('tablist', { name: 'Auth options' }).waitFor();
  return page;
}

const tab = (page, name) => page.getByRole('tab', { name, exact: true }).click();
/** Clicks Save; resolves with the status of the PATCH it sends. */
const save = async (page) => {
  const [res] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'PATCH' && r.url().includes('/api/collections/')),
    page.getByRole('button', { name: 'Save', exact: true }).click(),
  ]);
  return res.status();
};

test('sign-in methods, tokens, providers, templates and a test email', async () => {
  const server = await startKiln();
  const smtp = await startSmtp();
  try {
    const pb = await server.pb();
    await pb.settings.update({
      meta: { appName: 'Acme', senderName: 'Acme', senderAddress: 'noreply@example.com' },
      smtp: { enabled: true, host: smtp.host, port: smtp.port, tls: false, authMethod: 'PLAIN', username: '', password: '' },
    });
    // an account signed in before its tokens are invalidated
    await pb.collection('users').create({ email: 'old@example.com', password: 'old-password-1', passwordConfirm: 'old-password-1' });
    const oldToken = (await pb.collection('users').authWithPassword('old@example.com', 'old-password-1')).token;
    const admin = await server.pb();

    const page = await openOptions(server);
    // password: the identity fields are the unique-indexed ones
    await page.getByRole('checkbox', { name: 'Sign-in with password' }).waitFor();
    assert.equal(await page.getByRole('checkbox', { name: 'email' }).isChecked(), true);
    await checkA11y(page, 'auth options: password');

    // MFA alone (only the password enabled): the API's error shows next to the switch
    await tab(page, 'MFA');
    await page.getByRole('checkbox', { name: 'Require MFA' }).check();
    await checkA11y(page, 'auth options: mfa');
    assert.equal(await save(page), 400);
    const mfaField = page.locator('.field.has-error', { has: page.getByRole('checkbox', { name: 'Require MFA' }) });
    await mfaField.getByRole('alert').filter({ hasText: 'at least 2 auth methods' }).waitFor();
    assert.equal(await page.getByRole('tab', { name: 'MFA' }).locator('.dot-error').count(), 1);

    // OTP on, with its duration and length
    await tab(page, 'One-time password');
    await page.getByRole('checkbox', { name: 'Sign-in with a one-time password' }).check();
    await page.getByLabel('Valid for (seconds)').fill('300');
    await page.getByText('5 minutes').waitFor();
    await page.getByLabel('Code length').fill('6');
    await checkA11y(page, 'auth options: otp');

    // tokens: a new auth token lifetime, shown in human units, and invalidate the old ones
    await tab(page, 'Tokens');
    const authTok = page.getByRole('group', { name: 'Auth token' });
    await authTok.getByLabel('Duration (seconds)').fill('7200');
    await authTok.getByText('2 hours').waitFor();
    await authTok.getByRole('button', { name: 'Invalidate all tokens of this kind' }).click();
    await authTok.getByText('every token of this kind issued so far stops working').waitFor();
    await checkA11y(page, 'auth options: tokens');
    await screenshot(page, 'auth-options-tokens');

    // OAuth2: pick a provider from the API's list, give it credentials
    await tab(page, 'OAuth2');
    await page.getByRole('checkbox', { name: 'Sign-in with OAuth2' }).check();
    await page.getByRole('button', { name: 'Add provider' }).click();
    const picker = page.getByRole('dialog', { name: 'Add an OAuth2 provider' });
    await picker.getByRole('searchbox', { name: 'Search providers' }).fill('git');
    assert.equal(await picker.getByRole('button', { name: /Google/ }).count(), 0, 'the search filters the list');
    await checkA11y(page, 'auth options: provider picker');
    await picker.getByRole('button', { name: /GitHub/ }).click();
    await picker.waitFor({ state: 'hidden' });
    await page.getByLabel('Client ID').fill('gh-client');
    await page.getByLabel('Client secret').fill('gh-secret');
    await page.getByRole('combobox', { name: 'OAuth2 avatar' }).selectOption('avatar');
    await checkA11y(page, 'auth options: oauth2');
    await screenshot(page, 'auth-options');
    // Apple: its secret is generated by the server; a bad key is refused field by field
    await page.getByRole('button', { name: 'Add provider' }).click();
    await picker.getByRole('button', { name: /Apple/ }).click();
    await page.getByRole('button', { name: 'Generate secret' }).click();
    const apple = page.getByRole('dialog', { name: 'Generate the Apple client secret' });
    await apple.getByLabel('Team ID').fill('short');
    await apple.getByLabel('Key ID').fill('KEY1234567');
    await apple.getByLabel('Private key').fill('not a key');
    await apple.getByRole('button', { name: 'Generate secret' }).click();
    await apple.locator('.field.has-error', { has: page.getByLabel('Team ID') }).getByRole('alert').filter({ hasText: 'exactly 10' }).waitFor();
    await apple.locator('.field.has-error', { has: page.getByLabel('Private key') }).getByRole('alert').waitFor();
    await checkA11y(page, 'auth options: apple secret');
    await apple.getByRole('button', { name: 'Close', exact: true }).first().click();
    await page.getByRole('button', { name: 'Remove Apple' }).click();
    assert.equal(await page.getByRole('button', { name: 'Remove Apple' }).count(), 0);

    // a template: a new subject, a placeholder inserted in the body
    await tab(page, 'Emails');
    await page.getByRole('button', { name: 'Verification', exact: true }).click();
    await page.getByLabel('Subject').fill('Welcome to {APP_NAME}!');
    const body = page.getByLabel('Body (HTML)');
    await body.fill('<p>Hi {RECORD:email}, verify here: ');
    await page.getByRole('button', { name: 'Insert {TOKEN}' }).click();
    assert.match(await body.inputValue(), /verify here: \{TOKEN\}$/);
    await checkA11y(page, 'auth options: emails');
    await screenshot(page, 'auth-options-emails');

    assert.equal(await save(page), 200);
    await page.getByText('Saved.').waitFor();
    const users = await admin.collections.getOne('users');
    assert.equal(users.otp.enabled, true);
    assert.equal(users.otp.duration, 300);
    assert.equal(users.otp.length, 6);
    assert.equal(users.mfa.enabled, true);
    assert.equal(users.authToken.duration, 7200);
    assert.equal(users.oauth2.enabled, true);
    assert.equal(users.oauth2.providers.length, 1);
    assert.equal(users.oauth2.providers[0].name, 'github');
    assert.equal(users.oauth2.providers[0].clientId, 'gh-client');
    assert.equal(users.oauth2.providers[0].clientSecret, undefined, 'the API never shows the secret');
    assert.equal(users.oauth2.mappedFields.avatarURL, 'avatar');
    assert.equal(users.verificationTemplate.subject, 'Welcome to {APP_NAME}!');
    assert.match(users.verificationTemplate.body, /verify here: \{TOKEN\}$/);
    // the invalidated auth tokens no longer work
    const refresh = await fetch(`${server.url}/api/collections/users/auth-refresh`, { method: 'POST', headers: { Authorization: oldToken } });
    assert.equal(refresh.status, 401, 'a token issued before the invalidation is refused');

    // the client secret is write-only: saving again without typing it keeps it (no error)
    await tab(page, 'OAuth2');
    await page.getByRole('button', { name: /GitHub/ }).first().click();
    await page.getByLabel('Client secret').waitFor();
    assert.equal(await page.getByLabel('Client secret').inputValue(), '');
    await page.getByLabel('Client ID').fill('gh-client-2');
    assert.equal(await save(page), 200);
    assert.equal((await admin.collections.getOne('users')).oauth2.providers[0].clientId, 'gh-client-2');
    // …and an empty client id is refused, next to its input
    await page.getByLabel('Client ID').fill('');
    assert.equal(await save(page), 400);
    const idField = page.locator('.field.has-error', { has: page.getByLabel('Client ID') });
    await idField.getByRole('alert').filter({ hasText: 'Cannot be blank' }).waitFor();
    await page.getByLabel('Client ID').fill('gh-client-3');
    assert.equal(await save(page), 200);
    await page.locator('.field.has-error').first().waitFor({ state: 'detached' });

    // a test email through the real SMTP server, with the saved template
    await tab(page, 'Emails');
    await page.getByRole('button', { name: 'Send test email' }).click();
    const dialog = page.getByRole('dialog', { name: 'Send a test email' });
    await dialog.getByLabel('To').fill('tester@example.com');
    await dialog.getByRole('combobox', { name: 'Template' }).selectOption('verification');
    await checkA11y(page, 'auth options: test email');
    await dialog.getByRole('button', { name: 'Send' }).click();
    await dialog.getByText('The test email was sent to tester@example.com.').waitFor();
    const mail = await smtp.waitFor((m) => m.to.includes('tester@example.com'));
    assert.equal(mail.subject, 'Welcome to Acme!');
    // the API's error when sending fails (an invalid address)
    await dialog.getByLabel('To').fill('not-an-address@');
    await dialog.getByRole('button', { name: 'Send' }).click();
    await dialog.locator('.field.has-error', { has: page.getByLabel('To') }).getByRole('alert').filter({ hasText: 'valid email' }).waitFor();
    await dialog.getByRole('button', { name: 'Close', exact: true }).first().click();

    assertNoProblems(page, [/status of 400/]);
  } finally {
    await smtp.stop();
    await server.stop();
  }
});

test('impersonation gives a working token of the account', async () => {
  const server = await startKiln();
  try {
    const pb = await server.pb();
    const user = await pb.collection('users').create({ email: 'someone@example.com', password: 'pass-word-123', passwordConfirm: 'pass-word-123' });
    await pb.collection('users').create({ email: 'other@example.com', password: 'pass-word-123', passwordConfirm: 'pass-word-123' });
    const page = await openOptions(server, { r: user.id });
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
    await page.getByRole('button', { name: 'Impersonate' }).click();
    const dialog = page.getByRole('dialog', { name: 'Impersonate someone@example.com' });
    const duration = dialog.getByLabel('Token duration (seconds)');
    assert.equal(await duration.inputValue(), '432000', "the collection's auth token duration by default");
    await checkA11y(page, 'impersonate dialog');
    // the API's error for a negative duration, next to the input
    await duration.fill('-5');
    await dialog.getByRole('button', { name: 'Create token' }).click();
    await dialog.locator('.field.has-error', { has: page.getByLabel('Token duration (seconds)') }).getByRole('alert').filter({ hasText: 'no less than 0' }).waitFor();
    await duration.fill('600');
    await dialog.getByText('10 minutes').waitFor();
    await dialog.getByRole('button', { name: 'Create token' }).click();
    const tokenBox = dialog.getByLabel('Token', { exact: true });
    await tokenBox.waitFor();
    const token = await tokenBox.inputValue();
    const payload = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
    assert.equal(payload.id, user.id);
    assert.ok(Math.abs(payload.exp - Date.now() / 1000 - 600) < 60, `expires in ~600 s (${payload.exp})`);
    const curl = await dialog.getByLabel('Example request').inputValue();
    assert.ok(curl.includes(`Authorization: ${token}`) && curl.includes(`${server.url}/api/collections/users/records`), curl);
    await checkA11y(page, 'impersonate dialog with token');
    await screenshot(page, 'auth-impersonate');
    await dialog.getByRole('button', { name: 'Copy token' }).click();
    await page.getByText('Token copied.').waitFor();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), token);
    // the token works against the API as the account: it sees only itself (listRule)
    const res = await fetch(`${server.url}/api/collections/users/records`, { headers: { Authorization: token } });
    assert.equal(res.status, 200);
    const list = await res.json();
    assert.deepEqual(list.items.map((r) => r.email), ['someone@example.com']);
    assertNoProblems(page, [/status of 400/]);
  } finally {
    await server.stop();
  }
});

test('superusers: no OAuth2, OTP only with MFA, passkey settings', async () => {
  const server = await startKiln();
  try {
    const admin = await server.pb(); // signed in before MFA is required of superusers
    const page = await openOptions(server, { c: '_superusers' });
    assert.equal(await page.getByRole('tab', { name: 'OAuth2' }).count(), 0);
    assert.equal(await page.getByRole('checkbox', { name: 'Sign-in with password' }).isDisabled(), true);
    await tab(page, 'One-time password');
    await page.getByRole('checkbox', { name: 'Sign-in with a one-time password' }).check();
    await tab(page, 'MFA');
    assert.equal(await page.getByRole('checkbox', { name: 'Require MFA' }).isChecked(), true, 'OTP brings MFA along');
    assert.equal(await save(page), 200);
    await page.getByText('Saved.').waitFor();
    const su = await admin.collections.getOne('_superusers');
    assert.equal(su.otp.enabled, true);
    assert.equal(su.mfa.enabled, true);

    // passkeys: the application-wide relying party, saved on its own
    await tab(page, 'Passkeys');
    await page.getByLabel('Relying party ID').fill('example.com');
    await page.getByLabel('Allowed origins').fill('https://app.example.com\nhttps://www.example.com');
    await checkA11y(page, 'auth options: passkeys');
    await page.getByRole('button', { name: 'Save passkey settings' }).click();
    await page.getByText('Passkey settings saved.').waitFor();
    const settings = await admin.settings.getAll();
    assert.equal(settings.passkeys.rpId, 'example.com');
    assert.deepEqual(settings.passkeys.origins, ['https://app.example.com', 'https://www.example.com']);
    assertNoProblems(page);
  } finally {
    await server.stop();
  }
});

test('the collection editor shows the options tab', async () => {
  const server = await startKiln();
  try {
    const page = await openDashboard(browser, server, { path: '/collections/users/edit' });
    await page.getByRole('navigation', { name: 'Main' }).waitFor();
    await page.getByRole('tab', { name: 'Options', exact: true }).click();
    await page.getByRole('tablist', { name: 'Auth options' }).waitFor();
    await tab(page, 'Tokens');
    await page.getByRole('group', { name: 'Auth token' }).getByLabel('Duration (seconds)').fill('3600');
    await tab(page, 'One-time password');
    await page.getByRole('checkbox', { name: 'Sign-in with a one-time password' }).check();
    await checkA11y(page, 'editor: auth options');
    await screenshot(page, 'auth-options-editor');
    // a dialog of the options submits itself, not the editor around it
    await tab(page, 'Emails');
    await page.getByRole('button', { name: 'Send test email' }).click();
    const dialog = page.getByRole('dialog', { name: 'Send a test email' });
    await dialog.getByLabel('To').fill('x@example.com');
    await dialog.getByRole('button', { name: 'Send' }).click();
    await dialog.getByRole('alert').filter({ hasText: /SMTP|send/i }).first().waitFor();
    await dialog.getByRole('button', { name: 'Close', exact: true }).first().click();
    const admin = await server.pb();
    assert.equal((await admin.collections.getOne('users')).authToken.duration, 432000, 'nothing saved yet');
    await page.getByRole('button', { name: 'Save changes' }).click();
    const deadline = Date.now() + 10_000;
    let users;
    do {
      users = await admin.collections.getOne('users');
      if (users.authToken.duration === 3600) break;
      await new Promise((r) => setTimeout(r, 200));
    } while (Date.now() < deadline);
    assert.equal(users.authToken.duration, 3600);
    assert.equal(users.otp.enabled, true);
    assertNoProblems(page, [/status of 400/]);
  } finally {
    await server.stop();
  }
});
