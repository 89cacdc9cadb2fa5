// Three `kiln serve` nodes on one PostgreSQL database behind nginx, the nodes' messages carried by
// LISTEN/NOTIFY or by Redis (cluster.test.mjs, cluster_redis.test.mjs; PostgreSQL runs only: set
// KILN_TEST_DATABASE_URL, as scripts/test does). The JS SDK goes through nginx; realtime events,
// collection and settings changes, rate limits and resend throttles cross nodes; a node killed with
// SIGKILL under write load loses no acknowledged write and clients keep working through the
// survivors; with Redis, delivery resumes after Redis restarts.
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { EventSource } from 'eventsource';
import { startServer } from '../server.mjs';
import { haveNginx, startNginx } from './nginx.mjs';
import { haveRedis, startRedis } from './redis.mjs';
import { startSmtp } from './smtp.mjs';
import { newClient, newSuperuser, suite } from '../helpers.mjs';

globalThis.EventSource ??= EventSource;

const PG = process.env.KILN_TEST_DATABASE_URL;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitFor(pred, ms = 10_000, what = 'condition') {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await pred()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** Defines the tests of a three-node cluster whose messages travel by `carrier` ('postgres' or 'redis'). */
export function clusterSuite(carrier) {
  const skip = !PG ? 'needs KILN_TEST_DATABASE_URL (PostgreSQL)'
    : !haveNginx() ? 'needs nginx'
    : carrier === 'redis' && !haveRedis() ? 'needs redis-server'
    : false;
  const { it, failed } = suite(120_000);
  const nodes = [];
  let lb;
  let redis;
  const subscribers = []; // clients with an event stream, closed in `after` even after a failure

  before(async () => {
    if (skip) return;
    const env = { KILN_DATABASE_URL: PG, KILN_DATABASE_SCHEMA: `kiln_cluster_${carrier}_${process.pid}` };
    if (carrier === 'redis') {
      redis = await startRedis();
      env.KILN_REDIS_URL = redis.url;
    }
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
    await redis?.stop();
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

  it('a subscription request or an OAuth2 redirect that reaches another node than the stream is carried out by the node holding it', { skip }, async () => {
    // the stream on node 0, raw: the test sends the requests a balancer would spread
    const es = new EventSource(`${nodes[0].url}/api/realtime`);
    const messages = [];
    const connected = new Promise((ok, fail) => {
      es.addEventListener('PB_CONNECT', (e) => ok(JSON.parse(e.data).clientId));
      es.onerror = fail;
    });
    for (const topic of ['items', '@oauth2']) es.addEventListener(topic, (e) => messages.push({ topic, data: JSON.parse(e.data) }));
    try {
      const clientId = await connected;
      const post = (node, body, headers = {}) => fetch(`${node.url}/api/realtime`, {
        method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body),
      });
      const su = await newSuperuser(nodes[2].url);
      const asSuperuser = { authorization: su.authStore.token };
      const res = await post(nodes[1], { clientId, subscriptions: ['items', '@oauth2'] }, asSuperuser);
      assert.equal(res.status, 204, await res.text());
      const rec = await newClient(nodes[2].url).collection('items').create({ title: 'forwarded', n: 1 });
      await waitFor(() => messages.some((m) => m.topic === 'items' && m.data.record.id === rec.id), 10_000, 'the event on the stream');

      // the auth fixed by the first request holds wherever the next one goes
      const guest = await post(nodes[2], { clientId, subscriptions: ['items'] });
      assert.equal(guest.status, 403, 'another auth is refused by the node holding the client');

      const page = await fetch(`${nodes[2].url}/api/oauth2-redirect?state=${clientId}&code=abc123`);
      assert.equal(page.status, 200);
      await waitFor(() => messages.some((m) => m.topic === '@oauth2'), 10_000, 'the OAuth2 redirect on the stream');
      assert.deepEqual(messages.find((m) => m.topic === '@oauth2').data, { state: clientId, code: 'abc123' });

      const started = Date.now();
      const unknown = await post(nodes[1], { clientId: 'no-such-client', subscriptions: ['items'] });
      assert.equal(unknown.status, 404, 'no node holds it');
      assert.ok(Date.now() - started < 3_000);
    } finally {
      es.close();
    }
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

  it('a resend throttle holds on every node', { skip }, async () => {
    const smtp = await startSmtp();
    try {
      const su = await newSuperuser(lb.url);
      await su.settings.update({ smtp: { enabled: true, host: smtp.host, port: smtp.port, tls: false } });
      for (const node of nodes) {
        const s = await newSuperuser(node.url);
        await waitFor(async () => (await s.settings.getAll()).smtp.port === smtp.port, 10_000, `SMTP settings on ${node.url}`);
      }
      const email = 'throttled@example.com';
      await su.collection('users').create({ email, password: 'Secret-pass-123', passwordConfirm: 'Secret-pass-123' });
      // one request per node: the first sends, the throttle it set holds on the two others
      for (const node of nodes) await newClient(node.url).collection('users').requestVerification(email);
      await smtp.waitFor((m) => m.to.includes(email));
      await sleep(1_000);
      assert.equal(smtp.messages.filter((m) => m.to.includes(email)).length, 1, 'one verification mail for three requests');
    } finally {
      await smtp.stop();
    }
  });

  it('after Redis restarts, events and settings cross nodes again', { skip: skip || (carrier !== 'redis' && 'Redis only') }, async () => {
    const seen = [];
    const a = newClient(nodes[0].url);
    subscribers.push(a);
    const unsub = await a.collection('items').subscribe('*', (e) => seen.push(e));
    await redis.restart();
    // events published before the nodes subscribed again are lost: write until one arrives
    const b = newClient(nodes[1].url);
    await waitFor(async () => {
      const r = await b.collection('items').create({ title: 'after the restart' });
      await sleep(200);
      return seen.some((e) => e.record.id === r.id);
    }, 20_000, 'an event through the restarted Redis');
    const one = await newSuperuser(nodes[1].url);
    await one.settings.update({ meta: { appName: 'After restart' } });
    const zero = await newSuperuser(nodes[0].url);
    await waitFor(async () => (await zero.settings.getAll()).meta.appName === 'After restart', 10_000, 'settings on node 0');
    await unsub();
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
}
