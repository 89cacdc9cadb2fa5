// Three `kiln serve` nodes on one PostgreSQL database behind nginx, the nodes' messages carried by
// LISTEN/NOTIFY or by Redis (cluster.test.mjs, cluster_redis.test.mjs; PostgreSQL runs only: set
// KILN_TEST_DATABASE_URL, as scripts/test does). The JS SDK goes through nginx; realtime events,
// collection and settings changes, rate limits and resend throttles cross nodes; a node killed with
// SIGKILL under write load loses no acknowledged write and clients keep working through the
// survivors; with Redis, delivery resumes after Redis restarts; realtime clients of a node that stops
// resume on another node, or on it started again, with every event they missed.
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { EventSource } from 'eventsource';
import WebSocket from 'ws';
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
  const retired = []; // stopped nodes whose data dir a restarted node uses: removed at the end

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
    if (!failed()) for (const n of retired) rmSync(n.root, { recursive: true, force: true });
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

  // (before the Redis restart: a node whose carrier connection came back counts its log complete
  // only from then, and resumes from an earlier place go to another node)
  it('the realtime clients of a node that stops resume on another node, or on it started again, with every event they missed, once', { skip }, async () => {
    const su = await newSuperuser(nodes[1].url);
    const email = `resume${Date.now()}@example.com`;
    await su.collection('users').create({ email, password: 'secret-pass-1', passwordConfirm: 'secret-pass-1' });
    const user = newClient(nodes[1].url);
    await user.collection('users').authWithPassword(email, 'secret-pass-1');
    const asUser = { authorization: user.authStore.token };

    // an SSE stream (a guest's or the user's) recording its events and the id of the last message
    const sse = (node, { lastEventId, headers = {} } = {}) => {
      const c = { ids: [], events: [], lastId: null };
      c.es = new EventSource(`${node.url}/api/realtime`, {
        fetch: (url, init) => fetch(url, { ...init, headers: { ...init.headers, ...headers, ...(lastEventId ? { 'Last-Event-ID': lastEventId } : {}) } }),
      });
      c.connected = new Promise((ok, fail) => {
        c.es.addEventListener('PB_CONNECT', (e) => { c.lastId = e.lastEventId; ok(JSON.parse(e.data).clientId); });
        c.es.onerror = (e) => fail(new Error(`stream: ${e.message}`));
      });
      c.es.addEventListener('PB_RESET', () => c.events.push('PB_RESET'));
      c.es.addEventListener('items', (e) => { c.lastId = e.lastEventId; c.events.push(JSON.parse(e.data).record.title); });
      return c;
    };
    const post = (node, body, headers = {}) => fetch(`${node.url}/api/realtime`, {
      method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body),
    });
    const ws = (node, query) => {
      const c = { events: [], lastId: null };
      c.socket = new WebSocket(`${node.url.replace('http', 'ws')}/api/realtime/ws${query}`);
      c.connected = new Promise((ok, fail) => {
        c.socket.on('message', (m) => {
          const f = JSON.parse(m);
          if (f.id) c.lastId = f.id;
          if (f.event === 'PB_CONNECT') ok(f.data.clientId);
          else if (f.event === 'items') c.events.push(f.data.record.title);
          else if (f.event !== 'PB_SUBSCRIBED') c.events.push(f.event);
        });
        c.socket.on('error', fail);
      });
      c.closed = new Promise((ok) => c.socket.on('close', ok));
      return c;
    };
    const create = (node, title) => newClient(node.url).collection('items').create({ title, n: 0 });

    const guest = sse(nodes[0]);
    const member = sse(nodes[0], { headers: asUser });
    const socket = ws(nodes[0], '');
    const ids = [await guest.connected, await member.connected, await socket.connected];
    subscribers.push({ realtime: { unsubscribe: async () => { guest.es.close(); member.es.close(); socket.socket.close(); } } });
    assert.equal((await post(nodes[0], { clientId: ids[0], subscriptions: ['items'] })).status, 204);
    assert.equal((await post(nodes[0], { clientId: ids[1], subscriptions: ['items'] }, asUser)).status, 204);
    socket.socket.send(JSON.stringify({ action: 'subscribe', subscriptions: ['items'] }));
    await create(nodes[1], 'before');
    await waitFor(() => [guest, member, socket].every((c) => c.events.includes('before')), 10_000, 'the first event everywhere');

    // node 0 stops: its streams end after what was queued; its clients are parked
    const old = nodes[0];
    assert.deepEqual(await old.stop({ keep: true }), { code: 0, signal: null });
    await socket.closed;
    guest.es.close();
    member.es.close();
    await create(nodes[2], 'while away 1');
    await create(nodes[1], 'while away 2');

    // the guest resumes on node 1: same id, the two events it missed, not the one it had
    const guest2 = sse(nodes[1], { lastEventId: guest.lastId });
    assert.equal(await guest2.connected, ids[0]);
    await waitFor(() => guest2.events.length >= 2, 10_000, 'the replay on node 1');
    assert.deepEqual(guest2.events, ['while away 1', 'while away 2']);

    // the user's stream resumes without its token (as a browser's EventSource): nothing until a
    // subscription request carries the auth; a guest's request for it is refused
    const member2 = sse(nodes[1], { lastEventId: member.lastId });
    assert.equal(await member2.connected, ids[1]);
    assert.equal((await post(nodes[2], { clientId: ids[1], subscriptions: ['items'] })).status, 403);
    await sleep(300);
    assert.deepEqual(member2.events, [], 'nothing before the auth is proved');
    assert.equal((await post(nodes[2], { clientId: ids[1], subscriptions: ['items'] }, asUser)).status, 204);
    await waitFor(() => member2.events.length >= 2, 10_000, 'the replay after the proof');
    assert.deepEqual(member2.events, ['while away 1', 'while away 2']);

    // node 0 starts again (an empty log): the WebSocket client resumes there, the events coming
    // from another node's log
    nodes[0] = await startServer({ env: old.env, port: Number(new URL(old.url).port), dir: old.dir, superuser: false });
    retired.push(old);
    const socket2 = ws(nodes[0], `?resume=${encodeURIComponent(socket.lastId)}`);
    assert.equal(await socket2.connected, ids[2]);
    await waitFor(() => socket2.events.length >= 2, 10_000, 'the replay on the restarted node');
    assert.deepEqual(socket2.events, ['while away 1', 'while away 2']);
    subscribers.push({ realtime: { unsubscribe: async () => { guest2.es.close(); member2.es.close(); socket2.socket.close(); } } });

    // live events follow, once each
    await create(nodes[2], 'after');
    await waitFor(() => [guest2, member2, socket2].every((c) => c.events.includes('after')), 10_000, 'the live event');
    await sleep(200);
    for (const c of [guest2, member2, socket2]) assert.deepEqual(c.events, ['while away 1', 'while away 2', 'after']);

    // a parked client is taken once: its id does not resume twice
    const again = sse(nodes[2], { lastEventId: guest.lastId });
    assert.notEqual(await again.connected, ids[0]);
    await waitFor(() => again.events.includes('PB_RESET'), 5_000, 'PB_RESET');
    again.es.close();
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
