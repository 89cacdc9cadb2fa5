// The settings: application (save, the API's errors next to their inputs), mail (a real test
// email through a real SMTP server), storage, backups (create, download, restore, delete) and
// crons (run now).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { assertNoProblems, checkA11y, launchBrowser, openDashboard, screenshot, startKiln } from './harness.mjs';
import { startSmtp } from '../sdk/services/smtp.mjs';

let browser;
before(async () => (browser = await launchBrowser()));
after(async () => browser?.close());

/** Polls `fn` (async) until it returns a truthy value; fails after `ms`. */
async function until(fn, what, ms = 8000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => null);
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('application, mail and storage settings', async () => {
  const server = await startKiln();
  const smtp = await startSmtp();
  try {
    const api = await server.pb();
    const page = await openDashboard(browser, server, { path: '/settings' });
    await page.getByRole('heading', { name: 'Settings / Application' }).waitFor();
    const save = page.getByRole('button', { name: 'Save changes' });
    const name = page.getByLabel('Application name');
    await name.waitFor();
    assert.equal(await save.isDisabled(), true, 'Save waits for a change');
    await checkA11y(page, 'settings application');

    // change the app name and save
    await name.fill('Kiln Test Shop');
    assert.equal(await save.isDisabled(), false);
    await save.click();
    await page.getByText('Settings saved.').waitFor();
    assert.equal((await api.settings.getAll()).meta.appName, 'Kiln Test Shop');
    assert.equal(await save.isDisabled(), true);

    // a bad address: the API's error next to its input; Reset brings back the saved value
    const url = page.getByLabel('Application URL');
    await url.fill('not a url');
    await save.click();
    await page.locator('.field.has-error', { has: page.getByLabel('Application URL') }).getByRole('alert').waitFor();
    assert.equal(await url.getAttribute('aria-invalid'), 'true');
    await page.getByRole('button', { name: 'Reset' }).click();
    assert.equal(await url.inputValue(), (await api.settings.getAll()).meta.appURL);

    // a rate limit rule with an invalid maximum: the error sits in its row
    await page.getByText('Rate limiting', { exact: true }).click();
    await page.getByRole('button', { name: 'Add rule' }).click();
    const rules = (await api.settings.getAll()).rateLimits.rules.length;
    const n = rules + 1;
    await page.getByLabel(`Label of rule ${n}`).fill('/api/custom/');
    await page.getByLabel(`Max requests of rule ${n}`).fill('0');
    await save.click();
    const maxErr = page.locator('.rate-table .field.has-error', { has: page.getByLabel(`Max requests of rule ${n}`) });
    await maxErr.getByRole('alert').waitFor();
    assert.match(await maxErr.innerText(), /no less than 1/i);
    await checkA11y(page, 'settings application with errors');
    await page.getByLabel(`Max requests of rule ${n}`).fill('30');
    await save.click();
    await until(async () => (await api.settings.getAll()).rateLimits.rules.find((r) => r.label === '/api/custom/' && r.maxRequests === 30), 'the rule saved');
    await screenshot(page, 'settings');

    // mail: point SMTP at the test server and send a test email
    await page.getByRole('link', { name: 'Mail settings' }).click();
    await page.getByRole('heading', { name: 'Settings / Mail settings' }).waitFor();
    await page.getByLabel('Sender address').fill('shop@example.com');
    await page.getByLabel('Send through an SMTP server').check();
    await page.getByLabel('SMTP server host').fill(smtp.host);
    await page.getByLabel('Port').fill(String(smtp.port));
    await checkA11y(page, 'settings mail');
    await page.getByRole('button', { name: 'Save changes' }).click();
    const s = await until(async () => {
      const v = await api.settings.getAll();
      return v.smtp.enabled && v;
    }, 'SMTP saved');
    assert.equal(s.smtp.port, smtp.port);
    await page.getByRole('button', { name: 'Send test email' }).click();
    const dialog = page.getByRole('dialog', { name: 'Send a test email' });
    await dialog.waitFor();
    await dialog.getByLabel('Password reset').check();
    await dialog.getByLabel('To email address').fill('someone@example.net');
    await checkA11y(page, 'test email dialog');
    await dialog.getByRole('button', { name: 'Send', exact: true }).click();
    await dialog.getByText('The test email was sent to someone@example.net.').waitFor();
    const mail = await smtp.waitFor((m) => m.to.includes('someone@example.net'));
    assert.equal(mail.from, 'shop@example.com');
    await dialog.getByRole('button', { name: 'Close' }).first().click();

    // storage: S3 with missing values is refused, each error next to its input
    await page.getByRole('link', { name: 'File storage' }).click();
    await page.getByRole('heading', { name: 'Settings / File storage' }).waitFor();
    await page.getByLabel('Use S3 storage').check();
    await page.getByLabel('Secret').waitFor();
    await checkA11y(page, 'settings storage');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.locator('.field.has-error', { has: page.getByLabel('Bucket') }).getByRole('alert').waitFor();
    assert.equal((await api.settings.getAll()).s3.enabled, false);
    await page.getByRole('button', { name: 'Reset' }).click();
    assert.equal(await page.getByLabel('Bucket').count(), 0);

    assertNoProblems(page, [/status of 400/]);
  } finally {
    await smtp.stop();
    await server.stop();
  }
});

test('backups: create, download, restore, delete; crons: run now', async () => {
  const server = await startKiln();
  try {
    const api = await server.pb();
    await api.collections.create({ name: 'notes', type: 'base', fields: [{ name: 'title', type: 'text' }] });
    const kept = await api.collection('notes').create({ title: 'before the backup' });

    const page = await openDashboard(browser, server, { path: '/settings/backups' });
    await page.getByRole('heading', { name: 'Settings / Backups' }).waitFor();
    await page.getByText('No backups yet.').waitFor();
    await checkA11y(page, 'settings backups');

    await page.getByRole('button', { name: 'New backup' }).click();
    const dialog = page.getByRole('dialog', { name: 'Create a backup' });
    await dialog.waitFor();
    await checkA11y(page, 'create backup dialog');
    await dialog.getByLabel('Backup name').fill('first_backup');
    await dialog.getByRole('button', { name: 'Start backup' }).click();
    await page.getByRole('cell', { name: 'first_backup.zip', exact: true }).waitFor();
    assert.deepEqual((await api.backups.getFullList()).map((b) => b.key), ['first_backup.zip']);
    await screenshot(page, 'backups');

    // download: a zip
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download first_backup.zip' }).click()]);
    const bytes = readFileSync(await download.path());
    assert.equal(bytes.subarray(0, 2).toString('latin1'), 'PK', 'the download is a zip');
    assert.ok(bytes.length > 1000);

    // restore: a record made after the backup is gone, and the dashboard comes back
    const later = await api.collection('notes').create({ title: 'after the backup' });
    await page.getByRole('button', { name: 'Restore first_backup.zip' }).click();
    const restore = page.getByRole('dialog', { name: 'Restore first_backup.zip' });
    await restore.waitFor();
    await checkA11y(page, 'restore dialog');
    const go = restore.getByRole('button', { name: 'Restore backup' });
    assert.equal(await go.isDisabled(), true, 'restore waits for the typed name');
    await restore.getByLabel('Type first_backup.zip to confirm').fill('first_backup.zip');
    await Promise.all([page.waitForEvent('load', { timeout: 30_000 }), go.click()]);
    await page.getByRole('heading', { name: 'Settings / Backups' }).waitFor();
    await page.getByRole('cell', { name: 'first_backup.zip', exact: true }).waitFor();
    const after = await server.pb();
    const titles = (await after.collection('notes').getFullList()).map((r) => r.id);
    assert.deepEqual(titles, [kept.id]);
    assert.ok(!titles.includes(later.id));

    // delete, confirmed
    await page.getByRole('button', { name: 'Delete first_backup.zip' }).click();
    const confirmDialog = page.getByRole('dialog', { name: 'Delete the backup?' });
    await confirmDialog.waitFor();
    await confirmDialog.getByRole('button', { name: 'Delete' }).click();
    await page.getByText('No backups yet.').waitFor();
    assert.deepEqual(await after.backups.getFullList(), []);

    // upload the downloaded zip back
    await page.locator('input[type=file]').setInputFiles({ name: 'uploaded_copy.zip', mimeType: 'application/zip', buffer: bytes });
    await page.getByRole('cell', { name: 'uploaded_copy.zip', exact: true }).waitFor();
    assert.deepEqual((await after.backups.getFullList()).map((b) => b.key), ['uploaded_copy.zip']);

    // backup options: automatic backups with a preset schedule
    await page.getByLabel('Make backups automatically').check();
    await page.getByLabel('Presets').selectOption('0 0 * * 0');
    await page.getByLabel('Automatic backups to keep').fill('5');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await until(async () => {
      const b = (await after.settings.getAll()).backups;
      return b.cron === '0 0 * * 0' && b.cronMaxKeep === 5;
    }, 'the backup options saved');

    // crons
    await page.getByRole('link', { name: 'Crons' }).click();
    await page.getByRole('heading', { name: 'Settings / Crons' }).waitFor();
    await page.getByRole('button', { name: 'Run now: __pbLogsCleanup__' }).waitFor();
    await checkA11y(page, 'settings crons');
    await page.getByRole('button', { name: 'Run now: __pbLogsCleanup__' }).click();
    await page.getByText('__pbLogsCleanup__ ran successfully.').waitFor();
    const logs = await after.logs.getList(1, 5, { filter: "data.url ~ '/api/crons/__pbLogsCleanup__'" });
    assert.equal(logs.items[0]?.data?.status, 204);

    assertNoProblems(page);
  } finally {
    await server.stop();
  }
});
