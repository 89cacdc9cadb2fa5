// The official SDK in a real browser (Debian's Chromium, playwright-core), with and without the
// resuming EventSource of docs/examples/resuming-eventsource.mjs, while the node its page talks to
// stops and starts again (two nodes on one PostgreSQL schema: the events written meanwhile go
// through the other). With it, the page keeps its client id and gets every event, once; without
// it (as shipped), it gets a new client id and misses the events of the gap. PostgreSQL runs only
// (KILN_TEST_DATABASE_URL), with Chromium installed.
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startServer } from './server.mjs';
import { newClient, newSuperuser, suite } from './helpers.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const PG = process.env.KILN_TEST_DATABASE_URL;
const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
const skip = !PG ? 'needs KILN_TEST_DATABASE_URL (PostgreSQL)' : !existsSync(CHROMIUM) ? `needs Chromium (${CHROMIUM})` : false;
const { it, failed } = suite(90_000);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const SDK = readFileSync(join(HERE, 'node_modules/pocketbase/dist/pocketbase.umd.js'), 'utf8');
const SHIM = readFileSync(join(HERE, '../../docs/examples/resuming-eventsource.mjs'), 'utf8');
const PAGE = '/__resume_test__.html';

let browser;
const nodes = [];
const retired = [];

before(async () => {
  if (skip) return;
  const env = { KILN_DATABASE_SCHEMA: `kiln_resume_browser_${process.pid}` };
  for (let i = 0; i < 2; i++) nodes.push(await startServer({ env }));
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--no-first-run', '--disable-gpu', '--disable-dev-shm-usage'],
  });
});

after(async () => {
  if (skip) return;
  await browser?.close();
  if (failed()) for (const n of [...retired, ...nodes]) console.error(n.logs());
  for (const n of nodes) await n.stop({ keep: failed() });
  if (!failed()) for (const n of retired) rmSync(n.root, { recursive: true, force: true });
});

/** A page of node `url`'s origin running the SDK subscribed to `items` (with the shim when `resuming`). */
async function sdkPage(url, { resuming }) {
  const page = await browser.newPage();
  await page.route(`${url}${PAGE}`, (route) => route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>resume</title>' }));
  await page.goto(`${url}${PAGE}`);
  await page.addScriptTag({ content: SDK });
  if (resuming) {
    await page.addScriptTag({ type: 'module', content: `${SHIM}\nwindow.resumable = resumable;` });
    await page.waitForFunction(() => typeof window.resumable === 'function');
  }
  await page.evaluate(async ({ url, resuming }) => {
    if (resuming) window.EventSource = window.resumable(window.EventSource);
    window.pb = new window.PocketBase(url);
    window.got = [];
    window.clientIds = new Set();
    await window.pb.realtime.subscribe('PB_CONNECT', () => window.clientIds.add(window.pb.realtime.clientId));
    await window.pb.collection('items').subscribe('*', (e) => window.got.push(e.record.title));
  }, { url, resuming });
  return page;
}

const state = (page) => page.evaluate(() => ({ got: [...window.got], clientIds: window.clientIds.size }));

async function waitFor(pred, ms, what) {
  const deadline = Date.now() + ms;
  while (!(await pred())) {
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await sleep(100);
  }
}

it('in a browser, the SDK with the resuming EventSource keeps its client and misses nothing while its node restarts; as shipped it misses the gap', { skip }, async () => {
  const su = await newSuperuser(nodes[1].url);
  await su.collections.create({ name: 'items', type: 'base', listRule: '', viewRule: '', createRule: '', fields: [{ name: 'title', type: 'text' }] });
  await waitFor(() => newClient(nodes[0].url).collection('items').getList(1, 1).then(() => true, () => false), 10_000, 'the collection on node 0');
  const [a, b] = nodes;
  const resuming = await sdkPage(a.url, { resuming: true });
  const shipped = await sdkPage(a.url, { resuming: false });
  const create = (node, title) => newClient(node.url).collection('items').create({ title });

  await create(b, 'one');
  await waitFor(async () => (await state(resuming)).got.includes('one') && (await state(shipped)).got.includes('one'), 10_000, "'one' on both pages");

  // node 0 stops; events are written through node 1 while it is down; it starts again on its port
  assert.deepEqual(await a.stop({ keep: true }), { code: 0, signal: null });
  retired.push(a);
  await create(b, 'two');
  await create(b, 'three');
  nodes[0] = await startServer({ env: a.env, port: Number(new URL(a.url).port), dir: a.dir, superuser: false });

  await waitFor(async () => (await state(resuming)).got.includes('three'), 20_000, 'the replay on the resuming page');
  // the shipped page is subscribed again once its new client got its PB_CONNECT
  await waitFor(async () => (await state(shipped)).clientIds >= 2, 20_000, 'the shipped page reconnected');
  await sleep(500);
  await create(b, 'four');
  await waitFor(async () => (await state(resuming)).got.includes('four') && (await state(shipped)).got.includes('four'), 10_000, "'four' on both pages");

  const r = await state(resuming);
  assert.deepEqual(r.got, ['one', 'two', 'three', 'four'], 'every event, once, in order');
  assert.equal(r.clientIds, 1, 'the same client id throughout');
  const s = await state(shipped);
  assert.deepEqual(s.got, ['one', 'four'], 'as shipped, the events of the gap are missed');
  // (a new client each time it reconnects: it may first reach the stopping node on a kept-alive
  // connection during its last second)
  assert.ok(s.clientIds >= 2, `new client ids (${s.clientIds})`);
});
