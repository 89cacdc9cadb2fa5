// A web app served from another origin uses the PocketBase JS SDK against Kiln, in a real headless
// Chromium (Debian's `chromium`, driven by playwright-core): CORS preflights and answers as
// PocketBase gives them. The app is http://localhost:<port>/ (a small static server of this file),
// Kiln http://127.0.0.1:<port>: two origins, both on this machine (so Chromium's local network
// checks do not apply).
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { freePort, REPO, startServer } from './server.mjs';
import { newSuperuser, suite } from './helpers.mjs';

const { it, failed } = suite(60_000);
const SDK = readFileSync(join(REPO, 'tests', 'sdk', 'node_modules', 'pocketbase', 'dist', 'pocketbase.es.mjs'), 'utf8');
let open = [];
let browser;
let app;
const logs = [];

before(async () => {
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_BIN || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--host-resolver-rules=MAP localhost 127.0.0.1', '--no-first-run', '--disable-gpu', '--disable-dev-shm-usage'],
  });
  // the app's origin: its page and the SDK, nothing else
  app = createServer((req, res) => {
    if (req.url === '/pocketbase.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(SDK);
    } else if (req.url === '/') {
      res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>app</title>');
    } else {
      res.writeHead(404).end();
    }
  });
  const port = await freePort();
  await new Promise((r) => app.listen(port, '127.0.0.1', r));
  app.origin = `http://localhost:${port}`;
});

after(async () => {
  await browser?.close();
  await new Promise((r) => (app ? app.close(r) : r()));
  for (const s of open) {
    if (failed()) console.error(s.logs());
    await s.stop();
  }
  if (failed()) console.error(logs.join('\n'));
});

/** A fresh page of the app. */
async function appPage() {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on('console', (m) => logs.push(`console.${m.type()}: ${m.text()}`));
  page.on('requestfailed', (r) => logs.push(`request failed: ${r.method()} ${r.url()}: ${r.failure()?.errorText}`));
  await page.goto(`${app.origin}/`);
  return { origin: app.origin, page };
}

/** In the page: sign up, sign in, create and list a note through the SDK; or the SDK's error. */
async function useTheApi(page, url) {
  return page.evaluate(async (url) => {
    const { default: PocketBase } = await import('/pocketbase.js');
    const pb = new PocketBase(url);
    try {
      const email = `browser${Math.random().toString(36).slice(2, 8)}@example.com`;
      await pb.collection('users').create({ email, password: 'Passw0rd!123', passwordConfirm: 'Passw0rd!123' });
      await pb.collection('users').authWithPassword(email, 'Passw0rd!123');
      await pb.collection('notes').create({ title: 'from another origin' });
      const list = await pb.collection('notes').getList(1, 10, { filter: 'title ~ "origin"' });
      return { ok: true, titles: list.items.map((i) => i.title) };
    } catch (e) {
      return { ok: false, status: e.status, message: String(e.message) };
    }
  }, url);
}

async function serverWithNotes(serveArgs = []) {
  const server = await startServer({ serveArgs });
  open.push(server);
  const pb = await newSuperuser(server.url);
  await pb.collections.create({
    name: 'notes',
    type: 'base',
    listRule: '@request.auth.id != ""',
    createRule: '@request.auth.id != ""',
    fields: [{ name: 'title', type: 'text' }],
  });
  await pb.collections.update('users', { createRule: '' });
  return server;
}

it('a page on another origin uses the SDK against Kiln (every origin allowed by default)', async () => {
  const server = await serverWithNotes();
  const { page } = await appPage();
  const result = await useTheApi(page, server.url);
  assert.deepEqual(result, { ok: true, titles: ['from another origin'] }, logs.join('\n'));
});

it('with --origins, a listed origin may call the API and any other is refused by the browser', async () => {
  const { origin, page } = await appPage();
  const allowed = await serverWithNotes(['--origins', `https://app.example.com,${origin}`]);
  const result = await useTheApi(page, allowed.url);
  assert.deepEqual(result, { ok: true, titles: ['from another origin'] }, logs.join('\n'));

  const other = await serverWithNotes(['--origins', 'https://app.example.com']);
  const refused = await useTheApi(page, other.url);
  assert.equal(refused.ok, false, JSON.stringify(refused));
  assert.equal(refused.status, 0, 'the browser hides the answer (a network error to the page)');
});
