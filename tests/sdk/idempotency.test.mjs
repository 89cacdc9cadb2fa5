// Idempotency-Key on record creates, updates and batches: a retry with the same key and body gets
// the first answer (Idempotent-Replayed: true) and changes nothing; the same key with another body
// is a 422; 20 copies of one create sent at once make one record; keys belong to their caller; a
// key survives a restart of the server. Run on SQLite and PostgreSQL (scripts/test).
import { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { startServer } from './server.mjs';
import { newClient, newSuperuser, stopServer, suite } from './helpers.mjs';

const { it, failed } = suite(60_000);

describe('Idempotency-Key', () => {
  let server;
  let su;
  let token;
  let oldRoot;

  /** A request with an Idempotency-Key: { status, replayed, body }. */
  async function send(method, path, body, key, auth = token) {
    const headers = { 'content-type': 'application/json' };
    if (key !== undefined) headers['Idempotency-Key'] = key;
    if (auth) headers.Authorization = auth;
    const res = await fetch(server.url + path, { method, headers, body: JSON.stringify(body) });
    return { status: res.status, replayed: res.headers.get('idempotent-replayed') === 'true', body: await res.json() };
  }
  const count = async (filter) => (await su.collection('orders').getList(1, 1, { filter })).totalItems;

  before(async () => {
    server = await startServer();
    su = await newSuperuser(server.url);
    await su.collections.create({
      name: 'orders', type: 'base', listRule: '', viewRule: '', createRule: '', updateRule: '',
      fields: [{ name: 'ref', type: 'text', required: true }, { name: 'total', type: 'number' }],
    });
    await su.collection('users').create({ email: 'buyer@example.com', password: 'Passw0rd!2345', passwordConfirm: 'Passw0rd!2345' });
    const pb = newClient(server.url);
    token = (await pb.collection('users').authWithPassword('buyer@example.com', 'Passw0rd!2345')).token;
    await su.settings.update({ batch: { enabled: true, maxRequests: 20 } });
  });

  after(async () => {
    await stopServer(server, failed());
    if (oldRoot && !failed()) rmSync(oldRoot, { recursive: true, force: true });
  });

  it('a retry gets the first answer and changes nothing; another body with the key is a 422', async () => {
    const first = await send('POST', '/api/collections/orders/records', { ref: 'a-1', total: 10 }, 'key-a');
    assert.equal(first.status, 200);
    assert.equal(first.replayed, false);
    const again = await send('POST', '/api/collections/orders/records', { ref: 'a-1', total: 10 }, 'key-a');
    assert.equal(again.status, 200);
    assert.equal(again.replayed, true);
    assert.deepEqual(again.body, first.body);
    assert.equal(await count('ref = "a-1"'), 1);
    const other = await send('POST', '/api/collections/orders/records', { ref: 'a-2', total: 10 }, 'key-a');
    assert.equal(other.status, 422);
    assert.equal(other.body.status, 422);
    assert.equal(await count('ref = "a-2"'), 0);
    // without a key nothing is remembered
    await send('POST', '/api/collections/orders/records', { ref: 'a-3' });
    await send('POST', '/api/collections/orders/records', { ref: 'a-3' });
    assert.equal(await count('ref = "a-3"'), 2);
    // a refused request is answered the same again (its answer is kept too)
    const invalid = await send('POST', '/api/collections/orders/records', { total: 1 }, 'key-invalid');
    assert.equal(invalid.status, 400);
    const invalidAgain = await send('POST', '/api/collections/orders/records', { total: 1 }, 'key-invalid');
    assert.equal(invalidAgain.status, 400);
    assert.equal(invalidAgain.replayed, true);
    // a multipart body: a retry has another random boundary, and is the same request
    const form = () => {
      const f = new FormData();
      f.append('ref', 'mp-1');
      f.append('total', '3');
      return f;
    };
    const sendForm = async () => {
      const res = await fetch(server.url + '/api/collections/orders/records', { method: 'POST', headers: { Authorization: token, 'Idempotency-Key': 'key-multipart' }, body: form() });
      return { status: res.status, replayed: res.headers.get('idempotent-replayed') === 'true', body: await res.json() };
    };
    const m1 = await sendForm();
    const m2 = await sendForm();
    assert.equal(m1.status, 200);
    assert.equal(m2.replayed, true);
    assert.equal(m2.body.id, m1.body.id);
    assert.equal(await count('ref = "mp-1"'), 1);
    // a malformed key
    const long = await send('POST', '/api/collections/orders/records', { ref: 'x' }, 'k'.repeat(256));
    assert.equal(long.status, 400);
  });

  it('20 copies of one create sent at once make one record, and all get its answer', async () => {
    const answers = await Promise.all(Array.from({ length: 20 }, () => send('POST', '/api/collections/orders/records', { ref: 'burst', total: 5 }, 'key-burst')));
    assert.deepEqual(answers.map((a) => a.status), Array(20).fill(200));
    assert.equal(new Set(answers.map((a) => a.body.id)).size, 1);
    assert.equal(answers.filter((a) => !a.replayed).length, 1);
    assert.equal(await count('ref = "burst"'), 1);
  });

  it('updates and batches are covered; keys belong to their caller', async () => {
    const rec = await su.collection('orders').create({ ref: 'u-1', total: 1 });
    const path = `/api/collections/orders/records/${rec.id}`;
    const up = await send('PATCH', path, { 'total+': 5 }, 'key-up');
    assert.equal(up.body.total, 6);
    const upAgain = await send('PATCH', path, { 'total+': 5 }, 'key-up');
    assert.equal(upAgain.replayed, true);
    assert.equal(upAgain.body.total, 6);
    assert.equal((await su.collection('orders').getOne(rec.id)).total, 6, 'the increment ran once');

    const batch = { requests: [1, 2, 3].map((i) => ({ method: 'POST', url: '/api/collections/orders/records', body: { ref: `b-${i}` } })) };
    const b1 = await send('POST', '/api/batch', batch, 'key-batch');
    assert.equal(b1.status, 200, JSON.stringify(b1.body));
    const b2 = await send('POST', '/api/batch', batch, 'key-batch');
    assert.equal(b2.replayed, true);
    assert.deepEqual(b2.body, b1.body);
    assert.equal(await count('ref ~ "b-"'), 3);

    // the same key from another caller (a guest) is that caller's own key
    const guest = await send('POST', '/api/collections/orders/records', { ref: 'g-1' }, 'key-a', null);
    assert.equal(guest.status, 200);
    assert.equal(guest.replayed, false);
    assert.equal(await count('ref = "g-1"'), 1);
  });

  it('a key outlives a restart of the server', async () => {
    const first = await send('POST', '/api/collections/orders/records', { ref: 'r-1' }, 'key-restart');
    // a new server on the same data (the same PostgreSQL schema)
    const { dir, env, root } = server;
    await server.stop({ keep: true });
    oldRoot = root;
    server = await startServer({ dir, env: env.KILN_DATABASE_SCHEMA ? { KILN_DATABASE_SCHEMA: env.KILN_DATABASE_SCHEMA } : {} });
    su = await newSuperuser(server.url);
    token = (await newClient(server.url).collection('users').authWithPassword('buyer@example.com', 'Passw0rd!2345')).token;
    const again = await send('POST', '/api/collections/orders/records', { ref: 'r-1' }, 'key-restart');
    assert.equal(again.replayed, true);
    assert.equal(again.body.id, first.body.id);
    assert.equal(await count('ref = "r-1"'), 1);
  });
});
