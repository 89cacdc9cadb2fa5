// The logs: search with the filter language, the detail of one entry, the hourly chart and the
// logs settings.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertNoProblems, checkA11y, launchBrowser, openDashboard, screenshot, startKiln } from './harness.mjs';

let browser;
before(async () => (browser = await launchBrowser()));
after(async () => browser?.close());

test('search the logs, open an entry, read the chart, change a setting', async () => {
  const server = await startKiln();
  try {
    const api = await server.pb();
    // some requests as a guest, one of them failing
    for (let i = 0; i < 3; i++) await fetch(`${server.url}/api/health`);
    const missing = await fetch(`${server.url}/api/collections/nothing_here/records`);
    assert.equal(missing.status, 404);
    // the log is written after the response: wait until the API lists it
    for (let i = 0; i < 50; i++) {
      const found = await api.logs.getList(1, 1, { filter: 'data.status = 404' });
      if (found.totalItems) break;
      await new Promise((r) => setTimeout(r, 100));
    }

    const page = await openDashboard(browser, server, { path: '/logs' });
    await page.getByRole('heading', { name: 'Logs', exact: true }).waitFor();
    const table = page.getByRole('table', { name: 'Log entries, newest first' });
    await table.getByRole('link', { name: /\/api\/health/ }).first().waitFor();
    // the chart has bars and says what it shows
    const chart = page.getByRole('img', { name: /Log entries per hour/ });
    await chart.waitFor();
    // the stats come in a request of their own: the chart is drawn empty until they are there
    await chart.locator('rect').first().waitFor();
    assert.ok((await chart.locator('rect').count()) >= 1, 'the chart has bars');
    assert.match(await chart.getAttribute('aria-label'), /\d+ entries from/);
    await page.getByText('Show the chart as a table').click();
    assert.ok((await page.getByRole('table', { name: 'Log entries per hour' }).getByRole('row').count()) >= 2);
    await checkA11y(page, 'logs');
    await screenshot(page, 'logs');

    // filter the failing requests: the address keeps the filter
    const search = page.getByLabel('Search the logs');
    await search.fill('data.status >= 400');
    await search.press('Enter');
    await page.waitForFunction(() => new URLSearchParams(location.hash.split('?')[1] ?? '').get('filter') === 'data.status >= 400');
    await page.getByText('1 entry found').waitFor();
    const failing = table.getByRole('link', { name: /nothing_here/ });
    await failing.waitFor();
    assert.equal(await table.getByRole('link', { name: /\/api\/health/ }).count(), 0);
    assert.equal(await page.getByRole('img', { name: /Log entries per hour/ }).locator('rect').count(), 1);

    // the detail of the failing request
    await failing.click();
    const panel = page.getByRole('dialog', { name: 'Log entry' });
    await panel.waitFor();
    await panel.getByRole('rowheader', { name: 'data.status' }).waitFor();
    const statusRow = panel.getByRole('row').filter({ has: page.getByRole('rowheader', { name: 'data.status' }) });
    assert.match(await statusRow.innerText(), /404/);
    const urlRow = panel.getByRole('row').filter({ has: page.getByRole('rowheader', { name: 'data.url' }) });
    assert.match(await urlRow.innerText(), /\/api\/collections\/nothing_here\/records/);
    assert.match(page.url(), /log=/);
    await checkA11y(page, 'log detail');
    await screenshot(page, 'log-detail');
    await panel.getByRole('button', { name: 'Close' }).last().click();
    await panel.waitFor({ state: 'hidden' });
    assert.doesNotMatch(page.url(), /log=/);
    // a reload keeps the search
    await page.reload();
    await page.getByText('1 entry found').waitFor();
    assert.equal(await page.getByLabel('Search the logs').inputValue(), 'data.status >= 400');

    // a plain word searches level, message and data
    await page.getByLabel('Search the logs').fill('nothing_here');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.getByText('1 entry found').waitFor();

    // the logs settings
    await page.getByRole('button', { name: 'Logs settings' }).click();
    const dialog = page.getByRole('dialog', { name: 'Logs settings' });
    await dialog.getByLabel('Keep logs for (days)').waitFor();
    await checkA11y(page, 'logs settings');
    const before = (await api.settings.getAll()).logs;
    await dialog.getByLabel('Keep logs for (days)').fill('9');
    await dialog.getByLabel('Log the id of the signed-in user').setChecked(!before.logAuthId);
    await dialog.getByRole('button', { name: 'Save changes' }).click();
    await dialog.waitFor({ state: 'hidden' });
    const now = (await api.settings.getAll()).logs;
    assert.equal(now.maxDays, 9);
    assert.equal(now.logAuthId, !before.logAuthId);
    assert.equal(now.logIP, before.logIP);

    assertNoProblems(page);
  } finally {
    await server.stop();
  }
});
