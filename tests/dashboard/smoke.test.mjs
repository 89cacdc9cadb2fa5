// The first-superuser link, sign-in, the language switch and the shell.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertNoProblems, checkA11y, launchBrowser, openDashboard, screenshot, startKiln, SUPERUSER } from './harness.mjs';

let browser;
before(async () => (browser = await launchBrowser()));
after(async () => browser?.close());

test('the printed link creates the first superuser, once', async () => {
  const server = await startKiln({ superuser: false });
  try {
    const link = await server.installLink();
    const page = await openDashboard(browser, server, { signedIn: false, path: '/login' });
    await page.goto(link);
    await page.getByRole('heading', { name: 'Create your first superuser' }).waitFor();
    await checkA11y(page, 'installer');
    await screenshot(page, 'installer');
    await page.getByLabel('Email').fill('first@example.com');
    await page.getByLabel('Password', { exact: true }).fill('a-long-password');
    await page.getByLabel('Password again').fill('another-password');
    await page.getByRole('button', { name: 'Create and sign in' }).click();
    // the API's error shows next to the field it concerns
    await page.locator('.field.has-error', { hasText: 'Password again' }).getByRole('alert').waitFor();
    await page.getByLabel('Password', { exact: true }).fill('a-long-password');
    await page.getByLabel('Password again').fill('a-long-password');
    await page.getByRole('button', { name: 'Create and sign in' }).click();
    await page.getByRole('navigation', { name: 'Main' }).waitFor();
    // the installer account is gone, and the link no longer works
    const pb = await server.pb().catch(() => null);
    assert.equal(pb, null, 'SUPERUSER was never created in this server');
    const res = await fetch(`${server.url}/api/collections/_superusers/records`, { headers: { Authorization: link.split('/pbinstall/')[1] } });
    assert.equal(res.status, 403, "the installer token now authenticates nobody");
    const again = await openDashboard(browser, server, { signedIn: false, path: '/login' });
    await again.goto(link);
    await again.getByText('This link has expired or was already used', { exact: false }).waitFor();
    assertNoProblems(page, [/401|403|400/]);
  } finally {
    await server.stop();
  }
});

test('sign in, see the shell, switch the language', async () => {
  const server = await startKiln();
  try {
    const page = await openDashboard(browser, server, { signedIn: false, path: '/login' });
    await page.getByRole('heading', { name: 'Superuser sign-in' }).waitFor();
    await checkA11y(page, 'login');
    await screenshot(page, 'login');
    await page.getByLabel('Email').fill(SUPERUSER.email);
    await page.getByLabel('Password').fill('wrong-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: /invalid|failed/i }).first().waitFor();
    await page.getByLabel('Password').fill(SUPERUSER.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('navigation', { name: 'Main' }).waitFor();
    await page.getByRole('combobox', { name: 'Language' }).selectOption('de');
    await page.getByRole('navigation', { name: 'Hauptmenü' }).waitFor();
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'de');
    await page.reload();
    await page.getByRole('navigation', { name: 'Hauptmenü' }).waitFor();
    // dates and numbers in the chosen locale: a record created at a known time, listed in German
    const pb = await server.pb();
    await pb.collections.create({ name: 'notes', type: 'base', fields: [{ name: 'text', type: 'text' }, { name: 'n', type: 'number' }, { name: 'at', type: 'date' }] });
    await pb.collection('notes').create({ text: 'hallo', n: 1234567.5, at: '2026-03-04 05:06:07.000Z' });
    await page.goto(`${server.url}/_/#/collections/notes`);
    const row = page.getByRole('row').filter({ hasText: 'hallo' });
    await row.waitFor();
    const text = await row.innerText();
    assert.match(text, /1\.234\.567,5/, `a German number in: ${text}`);
    assert.match(text, /4\.3\.2026|04\.03\.2026/, `a German date in: ${text}`);
    await checkA11y(page, 'records in German');
    await screenshot(page, 'records-de');
    assertNoProblems(page, [/400/]);
  } finally {
    await server.stop();
  }
});
