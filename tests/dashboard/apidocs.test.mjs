// The API's documentation at /api/docs in Chromium: Swagger UI renders the document under its own
// Content-Security-Policy, a superuser signed in to the dashboard sees the superuser API, and a
// request tried from the page reaches the server.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertNoProblems, launchBrowser, openDashboard, screenshot, startKiln } from './harness.mjs';

let browser;
before(async () => (browser = await launchBrowser()));
after(async () => browser?.close());

test('Swagger UI shows the live API and tries a request', async () => {
  const server = await startKiln();
  try {
    const pb = await server.pb();
    await pb.collections.create({ name: 'lamps', type: 'base', listRule: '', viewRule: '', fields: [{ name: 'title', type: 'text' }] });
    // signed in to the dashboard first: the docs use that session
    const page = await openDashboard(browser, server);
    await page.goto(`${server.url}/api/docs`);
    await page.locator('.swagger-ui .information-container').waitFor({ timeout: 20_000 });
    await page.getByRole('heading', { name: 'lamps' }).first().waitFor();
    // the superuser API shows: the document was read with the dashboard's token
    await page.getByRole('heading', { name: 'superusers' }).first().waitFor();
    await screenshot(page, 'api-docs');
    // try GET /api/health from the page
    const op = page.locator('#operations-system-health');
    await op.locator('.opblock-summary').click();
    // (try-it-out is on from the start)
    await op.getByRole('button', { name: 'Execute' }).click();
    const status = op.locator('.live-responses-table tbody .response-col_status').first();
    await status.waitFor();
    assert.match(await status.innerText(), /^200/);
    assertNoProblems(page);
  } finally {
    await server.stop();
  }
});
