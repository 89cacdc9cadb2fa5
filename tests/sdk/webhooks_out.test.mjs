// Outbound webhooks: record events posted to a receiver that checks Kiln's signatures with the
// `standardwebhooks` package; the events a webhook watches and no others; a failed delivery retried
// with the same message id; two secrets during a rotation; a filter in the rule language; deliveries
// queued in the write's transaction (a failed batch queues none); addresses that are not public
// refused outside --dev. Run on SQLite and PostgreSQL (scripts/test).
import { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { Webhook } from 'standardwebhooks';
import { startServer } from './server.mjs';
import { newSuperuser, stopServer, suite } from './helpers.mjs';

const { it, failed } = suite(60_000);
const secret = (s) => `whsec_${Buffer.from(s).toString('base64')}`;
const S1 = secret('first-secret-for-tests');
const S2 = secret('second-secret-for-tests');

describe('outbound webhooks', () => {
  let server;
  let su;
  let receiver;
  let url;
  const got = []; // { headers, body, verified: [S1 ok, S2 ok] }
  let failNext = 0;

  async function waitFor(pred, what) {
    const deadline = Date.now() + 15_000;
    while (!pred()) {
      assert.ok(Date.now() < deadline, `timed out: ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  const verifies = (key, body, headers) => {
    try {
      new Webhook(key).verify(body, headers);
      return true;
    } catch {
      return false;
    }
  };

  before(async () => {
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => { body += c; });
      req.on('end', () => {
        const headers = { 'webhook-id': req.headers['webhook-id'], 'webhook-timestamp': req.headers['webhook-timestamp'], 'webhook-signature': req.headers['webhook-signature'] };
        got.push({ headers, body, message: JSON.parse(body), verified: [verifies(S1, body, headers), verifies(S2, body, headers)] });
        if (failNext > 0) {
          failNext -= 1;
          res.writeHead(500).end('try again');
        } else res.writeHead(204).end();
      });
    });
    await new Promise((r) => receiver.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${receiver.address().port}/hook`;
    server = await startServer({ serveArgs: ['--dev'] });
    su = await newSuperuser(server.url);
    await su.collections.create({ name: 'orders', type: 'base', fields: [{ name: 'ref', type: 'text' }, { name: 'note', type: 'text', hidden: true }] });
    await su.collections.create({ name: 'other', type: 'base', fields: [{ name: 'x', type: 'text' }] });
    await su.settings.update({ webhooks: { outbound: [
      { name: 'orders-out', url, collection: 'orders', events: ['create', 'update'], secrets: [S1] },
    ] } });
  });

  after(async () => {
    await stopServer(server, failed());
    receiver?.close();
  });

  it('creates and updates of the watched collection arrive signed; deletes and other collections do not', async () => {
    const s = await su.settings.getAll();
    assert.equal('secrets' in s.webhooks.outbound[0], false, 'secrets are never shown');
    const order = await su.collection('orders').create({ ref: 'A-1', note: 'internal' });
    await su.collection('orders').update(order.id, { ref: 'A-2' });
    await su.collection('other').create({ x: 'y' });
    await waitFor(() => got.length >= 2, 'two deliveries');
    await su.collection('orders').delete(order.id);
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(got.length, 2, JSON.stringify(got.map((g) => g.message.type)));
    // deliveries run as jobs, several at once: their order is not the writes' (the message has a timestamp)
    assert.deepEqual(got.map((g) => [g.message.type, g.message.data.collection, g.message.data.record.ref]).sort(), [['record.create', 'orders', 'A-1'], ['record.update', 'orders', 'A-2']]);
    for (const g of got) {
      assert.deepEqual(g.verified, [true, false], 'signed with the webhook secret only');
      assert.equal(g.message.data.record.id, order.id);
      assert.equal('note' in g.message.data.record, false, 'hidden fields are not sent');
    }
    assert.notEqual(got[0].headers['webhook-id'], got[1].headers['webhook-id']);
  });

  it('a failed delivery is retried with the same message id; the job is its log', async () => {
    got.length = 0;
    failNext = 1;
    const order = await su.collection('orders').create({ ref: 'flaky' });
    await waitFor(() => got.length >= 2, 'the retry');
    assert.equal(got[0].headers['webhook-id'], got[1].headers['webhook-id']);
    assert.equal(got[1].message.data.record.id, order.id);
    const jobs = await su.send('/api/jobs', { query: { name: '__webhook', perPage: 50 } });
    const job = jobs.items.find((j) => j.payload.id === got[0].headers['webhook-id']);
    const done = await su.send(`/api/jobs/${job.id}`, {});
    assert.equal(done.attempts, 2);
  });

  it('during a rotation both secrets sign; a bad setting is refused', async () => {
    got.length = 0;
    await su.settings.update({ webhooks: { outbound: [{ name: 'orders-out', secrets: [S1, S2] }] } });
    await su.collection('orders').create({ ref: 'rotated' });
    await waitFor(() => got.length >= 1, 'a delivery');
    assert.deepEqual(got[0].verified, [true, true]);
    const bad = await su.settings.update({ webhooks: { outbound: [{ name: 'x', url: 'not a url', collection: '', events: ['publish'], secrets: ['%%%'] }] } }).catch((e) => e);
    assert.equal(bad.status, 400);
    assert.deepEqual(Object.keys(bad.response.data.webhooks.outbound['0']).sort(), ['collection', 'events', 'secrets', 'url']);
  });

  it('a filter in the rule language narrows the deliveries; a cascade notifies the collection it reaches', async () => {
    got.length = 0;
    const orders = await su.collections.getOne('orders');
    await su.collections.create({ name: 'lines', type: 'base', fields: [
      { name: 'order', type: 'relation', collectionId: orders.id, cascadeDelete: true, maxSelect: 1 },
      { name: 'qty', type: 'number' },
    ] });
    await su.settings.update({ webhooks: { outbound: [
      { name: 'orders-out', filter: 'ref ~ "big" && ref != ""' },
      { name: 'lines-out', url, collection: 'lines', events: ['delete'], secrets: [S1], filter: 'qty > 2' },
    ] } });
    const s = await su.settings.getAll();
    assert.equal(s.webhooks.outbound.find((w) => w.name === 'orders-out').filter, 'ref ~ "big" && ref != ""');
    await su.collection('orders').create({ ref: 'small-1' });
    const big = await su.collection('orders').create({ ref: 'big-1' });
    await su.collection('lines').create({ order: big.id, qty: 1 });
    const five = await su.collection('lines').create({ order: big.id, qty: 5 });
    await su.collection('orders').delete(big.id);
    await waitFor(() => got.length >= 2, 'two deliveries');
    await new Promise((r) => setTimeout(r, 1000));
    assert.deepEqual(
      got.map((g) => [g.message.type, g.message.data.collection, g.message.data.record.id]).sort(),
      [['record.create', 'orders', big.id], ['record.delete', 'lines', five.id]],
    );
  });

  it('deliveries commit with the write: a batch that fails queues none', async () => {
    got.length = 0;
    await su.settings.update({ batch: { enabled: true, maxRequests: 10 } });
    const failed = await su.send('/api/batch', { method: 'POST', body: { requests: [
      { method: 'POST', url: '/api/collections/orders/records', body: { ref: 'big-rolled-back' } },
      { method: 'PATCH', url: '/api/collections/orders/records/missing0000000', body: { ref: 'x' } },
    ] } }).catch((e) => e);
    assert.equal(failed.status, 400);
    const ok = await su.send('/api/batch', { method: 'POST', body: { requests: [
      { method: 'POST', url: '/api/collections/orders/records', body: { ref: 'big-committed' } },
    ] } });
    await waitFor(() => got.length >= 1, 'the committed delivery');
    await new Promise((r) => setTimeout(r, 1000));
    assert.deepEqual(got.map((g) => g.message.data.record.ref), ['big-committed']);
    assert.equal(got[0].message.data.record.id, ok[0].body.id);
    const jobs = await su.send('/api/jobs', { query: { name: '__webhook', perPage: 100 } });
    assert.equal(jobs.items.some((j) => j.payload.message.data.record.ref === 'big-rolled-back'), false);
  });

  it('a filter that does not compile, or an unknown collection, is refused', async () => {
    const bad = await su.settings.update({ webhooks: { outbound: [
      { name: 'orders-out', filter: 'nope = 1' },
      { name: 'ghost', url, collection: 'ghosts', secrets: [S1] },
      { name: 'who', url, collection: 'orders', secrets: [S1], filter: '@request.auth.id != ""' },
    ] } }).catch((e) => e);
    assert.equal(bad.status, 400);
    assert.equal(bad.response.data.webhooks.outbound['0'].filter.code, 'validation_invalid_rule');
    assert.equal(bad.response.data.webhooks.outbound['1'].collection.code, 'validation_missing_collection');
    assert.equal(bad.response.data.webhooks.outbound['2'].filter.code, 'validation_invalid_rule');
    const s = await su.settings.getAll();
    assert.equal(s.webhooks.outbound.length, 2, 'nothing changed');
  });

  it('outside --dev a webhook to a loopback address is refused, and the job says why', async () => {
    const prod = await startServer();
    try {
      const admin = await newSuperuser(prod.url);
      await admin.collections.create({ name: 'orders', type: 'base', fields: [{ name: 'ref', type: 'text' }] });
      await admin.settings.update({ webhooks: { outbound: [{ name: 'local', url, collection: 'orders', secrets: [S1] }] } });
      const before = got.length;
      await admin.collection('orders').create({ ref: 'prod' });
      let job;
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline) {
        job = (await admin.send('/api/jobs', { query: { name: '__webhook' } })).items[0];
        if (job?.lastError) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.match(job.lastError, /non-public/);
      assert.equal(got.length, before, 'nothing reached the receiver');
    } finally {
      await prod.stop();
    }
  });
});
