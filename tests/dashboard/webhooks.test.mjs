// The webhooks settings: an outbound webhook added with a generated secret (a bad URL refused
// beside its field), its deliveries signed with that secret, edited without losing the secret, its
// deliveries on the Jobs page; an inbound endpoint with its address to copy; removal.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import { assertNoProblems, checkA11y, launchBrowser, openDashboard, screenshot, startKiln } from './harness.mjs';

let browser;
before(async () => (browser = await launchBrowser()));
after(async () => browser?.close());

/** Polls `fn` (async) until it returns a truthy value; fails after `ms`. */
async function until(fn, what, ms = 15_000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => null);
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Whether a delivery carries a Standard Webhooks signature made with `secret`. */
function signedWith(secret, { headers, body }) {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const mac = createHmac('sha256', key).update(`${headers['webhook-id']}.${headers['webhook-timestamp']}.${body}`).digest('base64');
  return String(headers['webhook-signature'] ?? '')
    .split(' ')
    .includes(`v1,${mac}`);
}

test('outbound and inbound webhooks', async () => {
  const got = [];
  const receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      got.push({ headers: req.headers, body, message: JSON.parse(body) });
      res.writeHead(204).end();
    });
  });
  await new Promise((r) => receiver.listen(0, '127.0.0.1', r));
  const hookUrl = `http://127.0.0.1:${receiver.address().port}/hook`;
  // --dev: deliveries may go to a loopback address
  const server = await startKiln({ args: ['--dev'] });
  try {
    const api = await server.pb();
    await api.collections.create({ name: 'orders', type: 'base', fields: [{ name: 'ref', type: 'text' }] });

    const page = await openDashboard(browser, server, { path: '/settings/webhooks' });
    await page.getByRole('heading', { name: 'Settings / Webhooks' }).waitFor();
    await page.getByText('No outbound webhooks yet.').waitFor();
    await page.getByText('No inbound webhooks yet.').waitFor();
    assert.equal(await page.getByRole('link', { name: 'Webhooks', exact: true }).getAttribute('aria-current'), 'page');
    await checkA11y(page, 'webhooks, empty');

    // a new outbound webhook with a generated secret
    await page.getByRole('button', { name: 'Add outbound webhook' }).click();
    const dialog = page.getByRole('dialog', { name: 'New outbound webhook' });
    await dialog.getByRole('textbox', { name: 'Name', exact: true }).fill('orders-out');
    await dialog.getByRole('combobox', { name: 'Collection', exact: true }).selectOption('orders');
    await dialog.getByRole('textbox', { name: 'URL', exact: true }).fill('not a url');
    for (const ev of ['Create', 'Update', 'Delete']) assert.equal(await dialog.getByRole('checkbox', { name: ev }).isChecked(), true, `${ev} is on by default`);
    await dialog.getByRole('checkbox', { name: 'Delete' }).uncheck();
    assert.equal(await dialog.getByLabel('Enabled').isChecked(), true);
    await dialog.getByRole('button', { name: 'Generate secret' }).click();
    const secrets = dialog.getByLabel('Secrets');
    const secret = await secrets.inputValue();
    assert.match(secret, /^whsec_[A-Za-z0-9+/]{32}$/, 'whsec_ and the base64 of 24 bytes');
    assert.equal(Buffer.from(secret.slice(6), 'base64').length, 24);
    // shown once, to copy
    await dialog.getByText(secret, { exact: true }).waitFor();
    await dialog.getByRole('button', { name: 'Copy the secret' }).waitFor();
    await checkA11y(page, 'outbound webhook editor');
    await screenshot(page, 'webhook-editor');

    // the bad URL: the API's error beside its field, nothing saved
    await dialog.getByRole('button', { name: 'Save webhook' }).click();
    const urlField = dialog.locator('.field.has-error', { has: page.getByRole('textbox', { name: 'URL', exact: true }) });
    await urlField.getByRole('alert').waitFor();
    assert.match(await urlField.innerText(), /valid url/i);
    assert.equal(await dialog.getByRole('textbox', { name: 'URL', exact: true }).getAttribute('aria-invalid'), 'true');
    assert.deepEqual((await api.settings.getAll()).webhooks.outbound, []);
    await checkA11y(page, 'outbound webhook editor with an error');
    await dialog.getByRole('textbox', { name: 'URL', exact: true }).fill(hookUrl);
    await dialog.getByRole('button', { name: 'Save webhook' }).click();
    await dialog.waitFor({ state: 'hidden' });
    await page.getByText('Webhook orders-out saved.').waitFor();

    // saved as entered, the secret never shown
    let out = (await api.settings.getAll()).webhooks.outbound;
    assert.equal(out.length, 1);
    assert.equal(out[0].name, 'orders-out');
    assert.equal(out[0].url, hookUrl);
    assert.equal(out[0].collection, 'orders');
    assert.deepEqual(out[0].events, ['create', 'update']);
    assert.equal(out[0].enabled, true);
    assert.equal('secrets' in out[0], false, 'the API never shows the secrets');
    const row = page.getByRole('row').filter({ hasText: 'orders-out' });
    await row.waitFor();
    assert.match(await row.innerText(), /Create, Update/);
    assert.equal(await page.getByText(secret).count(), 0, 'the secret is not shown once saved');

    // a delivery, signed with the generated secret
    const order = await api.collection('orders').create({ ref: 'A-1' });
    await until(async () => got.length >= 1, 'the first delivery');
    assert.equal(got[0].message.type, 'record.create');
    assert.ok(signedWith(secret, got[0]), 'signed with the generated secret');

    // edit: the secret field starts blank (keep), Delete is added; the secret survives
    await page.getByRole('button', { name: 'Edit orders-out' }).click();
    const edit = page.getByRole('dialog', { name: 'Outbound webhook orders-out' });
    await edit.getByLabel('Secrets').waitFor();
    assert.equal(await edit.getByLabel('Secrets').inputValue(), '');
    assert.equal(await edit.getByRole('textbox', { name: 'URL', exact: true }).inputValue(), hookUrl);
    assert.equal(await edit.getByRole('checkbox', { name: 'Delete' }).isChecked(), false);
    await edit.getByRole('checkbox', { name: 'Delete' }).check();
    await edit.getByRole('button', { name: 'Save webhook' }).click();
    await edit.waitFor({ state: 'hidden' });
    out = (await api.settings.getAll()).webhooks.outbound;
    assert.deepEqual(out[0].events, ['create', 'update', 'delete']);
    await api.collection('orders').delete(order.id);
    await until(async () => got.some((g) => g.message.type === 'record.delete'), 'the delete delivery');
    assert.ok(signedWith(secret, got.find((g) => g.message.type === 'record.delete')), 'still signed with the same secret');
    // a second edit without a secret is not refused either
    await page.getByRole('button', { name: 'Edit orders-out' }).click();
    await edit.getByLabel('Enabled').uncheck();
    await edit.getByRole('button', { name: 'Save webhook' }).click();
    await edit.waitFor({ state: 'hidden' });
    assert.equal((await api.settings.getAll()).webhooks.outbound[0].enabled, false);
    await row.getByText('Disabled').waitFor();

    // an inbound endpoint: its full address to copy
    await page.getByRole('button', { name: 'Add inbound webhook' }).click();
    const inbound = page.getByRole('dialog', { name: 'New inbound webhook' });
    await inbound.getByRole('textbox', { name: 'Name', exact: true }).fill('stripe');
    await inbound.getByLabel('Signature scheme').selectOption('stripe');
    assert.equal(await inbound.getByLabel('Endpoint').inputValue(), `${server.url}/api/webhooks/stripe`);
    assert.equal(await inbound.getByRole('button', { name: 'Generate secret' }).count(), 0, 'Stripe makes its own secrets');
    // no secret: refused before sending
    await inbound.getByRole('button', { name: 'Save webhook' }).click();
    await inbound.locator('.field.has-error', { has: page.getByLabel('Secrets') }).getByRole('alert').waitFor();
    await inbound.getByLabel('Secrets').fill(`whsec_${Buffer.from('stripe-test-secret').toString('base64')}`);
    await inbound.getByLabel('Job', { exact: true }).fill('payments');
    await checkA11y(page, 'inbound webhook editor');
    await inbound.getByRole('button', { name: 'Save webhook' }).click();
    await inbound.waitFor({ state: 'hidden' });
    const inList = (await api.settings.getAll()).webhooks.inbound;
    assert.equal(inList.length, 1);
    assert.equal(inList[0].scheme, 'stripe');
    assert.equal(inList[0].job, 'payments');
    assert.equal(inList[0].tolerance, 300);
    assert.equal('secrets' in inList[0], false);
    await page.getByRole('table', { name: 'Inbound webhooks' }).getByText(`${server.url}/api/webhooks/stripe`).waitFor();
    await checkA11y(page, 'webhooks');
    await screenshot(page, 'settings-webhooks');

    // the outbound webhook's deliveries on the Jobs page
    await page.getByRole('link', { name: 'Deliveries of orders-out' }).click();
    await page.waitForFunction(() => /^#\/jobs\?name=__webhook$/.test(location.hash));
    await page.getByRole('heading', { name: 'Jobs', exact: true }).waitFor();
    await page.getByRole('table', { name: 'Jobs, newest first' }).getByRole('link', { name: /orders-out/ }).first().waitFor();
    await page.getByText('record.delete · orders').waitFor();
    await page.goBack();
    await page.getByRole('heading', { name: 'Settings / Webhooks' }).waitFor();

    // remove the outbound webhook: the inbound one stays
    await page.getByRole('button', { name: 'Remove orders-out' }).click();
    const ask = page.getByRole('dialog', { name: 'Remove the webhook?' });
    await ask.getByRole('button', { name: 'Remove' }).click();
    await page.getByText('orders-out was removed.').waitFor();
    await page.getByText('No outbound webhooks yet.').waitFor();
    const after = (await api.settings.getAll()).webhooks;
    assert.deepEqual(after.outbound, []);
    assert.equal(after.inbound.length, 1);

    // the failed save answered 400
    assertNoProblems(page, [/status of 400/]);
  } finally {
    await server.stop();
    receiver.close();
  }
});
