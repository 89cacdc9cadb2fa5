// Three `kiln serve` nodes on one PostgreSQL database behind nginx (PostgreSQL runs only: set
// KILN_TEST_DATABASE_URL, as scripts/test does). The JS SDK goes through nginx; realtime events,
// collection and settings changes and rate limits cross nodes; a node killed with SIGKILL under write load loses no
// acknowledged write and clients keep working through the survivors.
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { EventSource } from 'eventsource';
import { startServer } from './server.mjs';
import { haveNginx, startNginx } from './services/nginx.mjs';
import { newClient, newSuperuser, suite } from './helpers.mjs';

globalThis.EventSource ??= EventSource;

const PG = process.env.KILN_TEST_DATABASE_URL;
const skip = !PG ? 'needs KILN_TEST_DATABASE_URL (PostgreSQL)' : !haveNginx() ? 'needs nginx' : false;
const { it, failed } = suite(120_000);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let nodes = [];
let lb;
const subscribers = []; // clients with an event stream, closed in `after` even after a failure

async function waitFor(pred, ms = 10_000, what = 'condition') {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await pred()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

before(async () => {
  if (skip) return;
  const env = { KILN_DATABASE_URL: PG, KILN_DATABASE_SCHEMA: `kiln_cluster_${process.pid}` };
  // one after the other: the first creates the schema and the system collections
  for (let i = 0; i < 3; i++) nodes.push(await startServer({ env }));
  lb = await startNginx(nodes.map((n) => n.url));
});

after(async () => {
  if (skip) return;
  for (const c of subscribers) await c.realtime.unsubscribe().catch(() => {});
  if (failed()) {
    for (const n of nodes) console.error(n.logs());
    console.error(`--- nginx errors ---\n${lb?.errors() ?? ''}`);
  }
  await lb?.stop();
  for (const n of nodes) await n.stop({ keep: failed() });
});

it('a collection created through the balancer is served by every node; settings follow', { skip }, async () => {
  const su = await newSuperuser(lb.url);
  await su.collections.create({
    name: 'items',
    type: 'base',
    listRule: '',
    viewRule: '',
    createRule: '',
    fields: [{ name: 'title', type: 'text' }, { name: 'n', type: 'number' }, { name: 'body', type: 'editor' }],
  });
  for (const node of nodes) {
    const pb = newClient(node.url);
    await waitFor(async () => (await pb.collection('items').getList(1, 1).then(() => true, () => false)), 10_000, `items on ${node.url}`);
  }
  const one = await newSuperuser(nodes[1].url);
  await one.settings.update({ meta: { appName: 'Clustered' } });
  const zero = await newSuperuser(nodes[0].url);
  await waitFor(async () => (await zero.settings.getAll()).meta.appName === 'Clustered', 10_000, 'settings on node 0');
});

it('a subscriber on one node receives a write made on another', { skip }, async () => {
  const seen = [];
  const a = newClient(nodes[0].url);
  subscribers.push(a);
  const unsub = await a.collection('items').subscribe('*', (e) => seen.push(e));
  const b = newClient(nodes[1].url);
  const rec = await b.collection('items').create({ title: 'from B', n: 7 });
  await waitFor(() => seen.length >= 1, 10_000, 'the event on node 0');
  assert.equal(seen[0].action, 'create');
  assert.equal(seen[0].record.id, rec.id);
  assert.equal(seen[0].record.title, 'from B');
  // a large record travels too (NOTIFY payloads are limited to 8000 bytes)
  const big = await b.collection('items').create({ title: 'big', body: 'x'.repeat(20_000) });
  await waitFor(() => seen.some((e) => e.record.id === big.id), 10_000, 'the large event on node 0');
  assert.equal(seen.find((e) => e.record.id === big.id).record.body.length, 20_000);
  await unsub();
});

it('a rate limit holds for the cluster, not per node', { skip }, async () => {
  // the default rule: 20 sign-in attempts a minute per IP (and collection, route)
  const statuses = [];
  for (let i = 0; i < 21; i++) {
    const pb = newClient(nodes[i % 2].url);
    statuses.push(await pb.collection('users').authWithPassword('nobody@example.com', 'wrong-password-1').then(() => 200, (e) => e.status));
  }
  assert.deepEqual(statuses.slice(0, 20), Array(20).fill(400));
  assert.equal(statuses[20], 429, 'the 21st attempt, on the node that saw only 10, is refused');
});

it('a node killed under write load loses no acknowledged write; the others keep serving', { skip }, async () => {
  const acked = [];
  let failures = 0;
  let stop = false;
  const writer = async (w) => {
    const pb = newClient(lb.url);
    for (let i = 0; !stop; i++) {
      try {
        const r = await pb.collection('items').create({ title: `w${w}-${i}`, n: i });
        acked.push(r.id);
      } catch {
        failures++; // in flight on the killed node: not acknowledged
      }
    }
  };
  const writers = [0, 1, 2, 3].map(writer);
  await sleep(1_000);
  const before = acked.length;
  await nodes[2].kill();
  await sleep(2_000);
  stop = true;
  await Promise.all(writers);
  assert.ok(before > 0, 'writes went through before the kill');
  assert.ok(acked.length > before + 10, `writes kept going after the kill (${before} → ${acked.length})`);
  assert.ok(failures < acked.length / 10, `few writes failed (${failures} of ${acked.length + failures})`);

  const su = await newSuperuser(lb.url);
  const stored = new Set((await su.collection('items').getFullList({ fields: 'id', batch: 1000 })).map((r) => r.id));
  const lost = acked.filter((id) => !stored.has(id));
  assert.deepEqual(lost, [], 'every acknowledged write is stored');
});
