// A PostgreSQL restart under a running node: requests fail with 503 while the database is down,
// nothing acknowledged is lost, and the node carries on (reconnecting its pool and its listener)
// once it is back. Runs on a PostgreSQL server of its own (scripts/pg), so that the restart does
// not disturb the other test files; skipped where PostgreSQL's binaries are missing.
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { EventSource } from 'eventsource';
import { REPO, startServer } from './server.mjs';
import { newClient, newSuperuser, suite } from './helpers.mjs';

globalThis.EventSource ??= EventSource;

const PG_SCRIPT = join(REPO, 'scripts', 'pg');
const havePg = existsSync('/usr/lib/postgresql') && readdirSync('/usr/lib/postgresql').length > 0;
const skip = process.env.KILN_TEST_DATABASE_URL && havePg ? false : 'needs KILN_TEST_DATABASE_URL and PostgreSQL';
const { it, failed } = suite(120_000);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let pg; // { url, dir }
let node;
let pb; // the test's client: its event stream is closed in `after`, even after a failure

const pgctl = (cmd) => execFileSync(PG_SCRIPT, [cmd], { env: { ...process.env, KILN_TEST_PG_DIR: pg?.dir ?? '' }, encoding: 'utf8' });

before(async () => {
  if (skip) return;
  const out = pgctl('start');
  pg = { url: /KILN_TEST_DATABASE_URL=(\S+)/.exec(out)[1], dir: /KILN_TEST_PG_DIR=(\S+)/.exec(out)[1] };
  node = await startServer({ env: { KILN_DATABASE_URL: pg.url, KILN_DATABASE_SCHEMA: 'restart' } });
});

after(async () => {
  if (skip) return;
  await pb?.realtime.unsubscribe().catch(() => {}); // an open event stream keeps the process alive
  if (failed()) console.error(node?.logs());
  await node?.stop({ keep: failed() });
  if (pg) pgctl('stop');
});

it('a database restart loses no acknowledged write and the node recovers', { skip }, async () => {
  const su = await newSuperuser(node.url);
  await su.collections.create({ name: 'notes', type: 'base', listRule: '', viewRule: '', createRule: '', fields: [{ name: 't', type: 'text' }] });
  pb = newClient(node.url);
  const acked = [];
  for (let i = 0; i < 20; i++) acked.push((await pb.collection('notes').create({ t: `before ${i}` })).id);

  const seen = [];
  await pb.collection('notes').subscribe('*', (e) => seen.push(e.record.t));

  // writes keep going while the database restarts: some fail, none acknowledged is lost
  let stop = false;
  const statuses = new Set();
  const writer = (async () => {
    for (let i = 0; !stop; i++) {
      try {
        acked.push((await pb.collection('notes').create({ t: `during ${i}` })).id);
      } catch (e) {
        statuses.add(e.status);
        await sleep(20);
      }
    }
  })();
  await sleep(300);
  pgctl('restart');
  await sleep(1_000);
  stop = true;
  await writer;
  for (const s of statuses) assert.ok(s === 503 || s === 400, `a failed write says so (${s})`);

  // back to normal: reads, writes and realtime
  const after = await pb.collection('notes').create({ t: 'after' });
  acked.push(after.id);
  const all = new Set((await pb.collection('notes').getFullList({ fields: 'id', batch: 1000 })).map((r) => r.id));
  assert.deepEqual(acked.filter((id) => !all.has(id)), [], 'every acknowledged write is stored');
  const deadline = Date.now() + 10_000;
  while (!seen.includes('after') && Date.now() < deadline) await sleep(50);
  assert.ok(seen.includes('after'), 'realtime works after the restart');
});
