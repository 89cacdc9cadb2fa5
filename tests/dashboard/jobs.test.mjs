// The jobs: the list by status and by name (both kept in the address) with its pager, a failed
// webhook delivery shown readably with its error and Retry, a queued job (no Retry) deleted after
// the confirmation, and a job queued from the dialog, its payload checked before it is sent.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { assertNoProblems, checkA11y, launchBrowser, openDashboard, screenshot, startKiln } from './harness.mjs';

let browser;
before(async () => (browser = await launchBrowser()));
after(async () => browser?.close());

/** Polls `fn` (async) until it returns a truthy value; fails after `ms`. */
async function until(fn, what, ms = 10_000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => null);
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A loopback port nothing listens on (a delivery to it fails at once). */
function closedPort() {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.on('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => ok(port));
    });
  });
}

const hashQuery = (page) => page.evaluate(() => Object.fromEntries(new URLSearchParams(location.hash.split('?')[1] ?? '')));

test('list, filter, inspect, retry, delete and queue jobs', async () => {
  // --dev: the webhook may point at a loopback address
  const server = await startKiln({ args: ['--dev'] });
  try {
    const api = await server.pb();
    const jobs = {
      queue: (body) => api.send('/api/jobs', { method: 'POST', body }),
      get: (id) => api.send(`/api/jobs/${id}`, { method: 'GET' }),
      list: (query) => api.send('/api/jobs', { method: 'GET', query }),
    };
    await api.collections.create({ name: 'orders', type: 'base', fields: [{ name: 'ref', type: 'text' }] });
    const port = await closedPort();
    const secret = `whsec_${Buffer.from('a-secret-for-the-dashboard-tests').toString('base64')}`;
    await api.settings.update({ webhooks: { outbound: [{ name: 'orders-out', url: `http://127.0.0.1:${port}/hook`, collection: 'orders', events: ['create'], secrets: [secret] }] } });

    // jobs no handler runs stay queued: enough of them for two pages
    for (let i = 0; i < 32; i++) await jobs.queue({ name: 'bulk', payload: { n: i } });
    await new Promise((r) => setTimeout(r, 20));
    const mail = await jobs.queue({ name: 'emails.send', payload: { to: 'a@example.com' }, uniqueKey: 'welcome-a' });
    // a delivery of the webhook, queued by hand with one attempt: the closed port fails it at once
    const delivery = await jobs.queue({
      name: '__webhook',
      maxAttempts: 1,
      payload: {
        webhook: 'orders-out',
        id: 'msg_dashboardtest1',
        message: { type: 'record.create', timestamp: '2026-12-07 10:00:00.000Z', data: { collection: 'orders', record: { id: 'rec000000000001', ref: 'A-1' } } },
      },
    });
    const failed = await until(async () => {
      const j = await jobs.get(delivery.id);
      return j.status === 'failed' && j;
    }, 'the delivery to fail');
    assert.ok(failed.lastError, 'the failed delivery has an error');
    assert.equal(mail.status, 'queued');

    const page = await openDashboard(browser, server, { path: '/jobs' });
    await page.getByRole('heading', { name: 'Jobs', exact: true }).waitFor();
    const table = page.getByRole('table', { name: 'Jobs, newest first' });
    // the delivery reads as one: the webhook's name, the event and the collection
    const deliveryRow = table.getByRole('row').filter({ has: page.getByRole('link', { name: /Webhook delivery orders-out/ }) });
    await deliveryRow.waitFor();
    assert.match(await deliveryRow.innerText(), /record\.create · orders/);
    assert.match(await deliveryRow.innerText(), /Failed/);
    assert.match(await deliveryRow.innerText(), /1\/1/);
    await page.getByText('34 jobs').waitFor();
    assert.equal(await table.getByRole('link', { name: 'emails.send' }).count(), 1);
    // the Failed tab counts the dead letters
    assert.match(await page.getByRole('tab', { name: /Failed/ }).innerText(), /1/);
    const pager = page.getByRole('navigation', { name: 'Pages' });
    await pager.getByText('Page 1 of 2').waitFor();
    await checkA11y(page, 'jobs');
    await screenshot(page, 'jobs');

    // the second page, kept in the address
    await pager.getByRole('button', { name: 'Next' }).click();
    await pager.getByText('Page 2 of 2').waitFor();
    assert.equal((await hashQuery(page)).page, '2');
    await table.getByRole('link', { name: 'bulk' }).first().waitFor();
    assert.equal(await table.getByRole('link').count(), 4);

    // the failed ones: the tab goes into the address, back to the first page
    await page.getByRole('tab', { name: /Failed/ }).click();
    await page.waitForFunction(() => /status=failed/.test(location.hash) && !/page=/.test(location.hash));
    await page.getByText('1 job', { exact: true }).waitFor();
    assert.equal(await page.getByRole('tab', { name: /Failed/ }).getAttribute('aria-selected'), 'true');
    assert.match(await deliveryRow.innerText(), new RegExp(failed.lastError.slice(0, 20).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));

    // its detail: every field, the payload as JSON, the error in full, and Retry
    await deliveryRow.getByRole('link').click();
    const panel = page.getByRole('dialog', { name: 'Job', exact: true });
    await panel.getByRole('rowheader', { name: 'lastError' }).waitFor();
    assert.match(page.url(), new RegExp(`job=${delivery.id}`));
    const row = (name) => panel.getByRole('row').filter({ has: page.getByRole('rowheader', { name, exact: true }) });
    assert.ok((await row('lastError').innerText()).includes(failed.lastError));
    assert.match(await row('payload').innerText(), /"webhook": "orders-out"/);
    assert.match(await row('attempts').innerText(), /1 of 1 attempts/);
    assert.match(await row('uniqueKey').innerText(), /\(empty\)/);
    await panel.getByText('msg_dashboardtest1', { exact: true }).waitFor();
    await checkA11y(page, 'job detail');
    await screenshot(page, 'job-detail');
    await panel.getByRole('button', { name: 'Retry' }).click();
    await page.getByText('__webhook is queued again.').waitFor();
    const retried = await jobs.get(delivery.id);
    assert.notEqual(retried.updated, failed.updated, 'the job was queued again');
    await panel.getByRole('button', { name: 'Close' }).last().click();
    await panel.waitFor({ state: 'hidden' });
    assert.doesNotMatch(page.url(), /job=/);

    // queued jobs named emails.send: a name filter, kept in the address with the status
    await page.getByRole('tab', { name: 'Queued' }).click();
    await page.waitForFunction(() => /status=queued/.test(location.hash));
    const name = page.getByLabel('Job name');
    await name.fill('emails.send');
    await name.press('Enter');
    await page.waitForFunction(() => /name=emails\.send/.test(location.hash));
    await page.getByText('1 job', { exact: true }).waitFor();
    assert.deepEqual({ ...(await hashQuery(page)) }, { status: 'queued', name: 'emails.send' });
    // a reload keeps both
    await page.reload();
    await page.getByText('1 job', { exact: true }).waitFor();
    assert.equal(await page.getByLabel('Job name').inputValue(), 'emails.send');
    assert.equal(await page.getByRole('tab', { name: 'Queued' }).getAttribute('aria-selected'), 'true');

    // a queued job has no Retry; Delete asks first
    await table.getByRole('link', { name: 'emails.send' }).click();
    await panel.getByRole('rowheader', { name: 'uniqueKey' }).waitFor();
    assert.match(await row('uniqueKey').innerText(), /welcome-a/);
    assert.equal(await panel.getByRole('button', { name: 'Retry' }).count(), 0, 'no Retry for a queued job');
    await panel.getByRole('button', { name: 'Delete' }).click();
    const ask = page.getByRole('dialog', { name: 'Delete the job?' });
    await ask.waitFor();
    await ask.getByRole('button', { name: 'Delete' }).click();
    await page.getByText('The job emails.send was deleted.').waitFor();
    await panel.waitFor({ state: 'hidden' });
    await page.getByText('No jobs match this filter.').waitFor();
    await assert.rejects(jobs.get(mail.id), (err) => err.status === 404);

    // queue a job by hand: a payload that is not JSON is refused beside its field, before sending
    await page.getByRole('button', { name: 'Queue a job' }).click();
    const dialog = page.getByRole('dialog', { name: 'Queue a job' });
    await dialog.getByRole('textbox', { name: 'Name', exact: true }).fill('reports.build');
    await dialog.getByLabel('Payload (JSON)').fill('{"month": 2026-12}');
    await dialog.getByLabel('Unique key').fill('report-2026-12');
    await dialog.getByLabel('Max attempts').fill('3');
    await dialog.getByRole('button', { name: 'Queue', exact: true }).click();
    const payloadField = dialog.locator('.field.has-error', { has: page.getByLabel('Payload (JSON)') });
    await payloadField.getByRole('alert').waitFor();
    assert.match(await payloadField.innerText(), /not valid JSON/);
    assert.equal(await dialog.getByLabel('Payload (JSON)').getAttribute('aria-invalid'), 'true');
    await checkA11y(page, 'queue a job');
    await dialog.getByLabel('Payload (JSON)').fill('{"month": "2026-12"}');
    await dialog.getByRole('button', { name: 'Queue', exact: true }).click();
    await dialog.waitFor({ state: 'hidden' });
    await page.getByText('reports.build was queued.').waitFor();
    const queued = await jobs.list({ name: 'reports.build' });
    assert.equal(queued.totalItems, 1);
    assert.deepEqual(queued.items[0].payload, { month: '2026-12' });
    assert.equal(queued.items[0].maxAttempts, 3);
    assert.equal(queued.items[0].uniqueKey, 'report-2026-12');
    assert.equal(queued.items[0].status, 'queued');

    // clearing the name shows every queued job again, the new one first
    await page.getByRole('button', { name: 'Clear name' }).click();
    await page.waitForFunction(() => !/name=/.test(location.hash));
    await table.getByRole('link', { name: 'reports.build' }).waitFor();
    assert.equal(await table.getByRole('link').first().innerText(), 'reports.build');

    assertNoProblems(page);
  } finally {
    await server.stop();
  }
});

test('the jobs page in German, empty', async () => {
  const server = await startKiln();
  try {
    const page = await openDashboard(browser, server, { path: '/jobs?status=failed', locale: 'de' });
    await page.getByRole('heading', { name: 'Jobs', exact: true }).waitFor();
    await page.getByText('Keine Jobs passen zu diesem Filter.').waitFor();
    assert.equal(await page.getByRole('tab', { name: 'Fehlgeschlagen' }).getAttribute('aria-selected'), 'true');
    await page.getByRole('tab', { name: 'Alle' }).click();
    await page.getByText(/Noch keine Jobs/).waitFor();
    await checkA11y(page, 'jobs in German');
    assertNoProblems(page);
  } finally {
    await server.stop();
  }
});
