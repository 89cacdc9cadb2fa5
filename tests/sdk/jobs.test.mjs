// The durable job queue: jobs queued from pb_hooks ($jobs.enqueue, inside a hook's transaction or
// not) and from the superuser API (/api/jobs), run by jobAdd handlers with retries and backoff,
// dead letters listed and retried, scheduled runs (runAt), unique keys. Run on SQLite and
// PostgreSQL (scripts/test); the cluster test (jobs_cluster.test.mjs) kills a node mid-job.
import { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from './server.mjs';
import { newClient, newSuperuser, rejects, stopServer, suite } from './helpers.mjs';

const { it, failed } = suite(60_000);

const HOOKS = `
// each run leaves a trace; a payload's failTimes makes the first runs fail
jobAdd("trace", (e) => {
  const r = new Record($app.findCollectionByNameOrId("runs"));
  r.set("job", e.job.id);
  r.set("attempt", e.job.attempt);
  r.set("note", String(e.job.payload?.note ?? ""));
  $app.save(r);
  if ((e.job.payload?.failTimes ?? 0) >= e.job.attempt) throw new Error("failing attempt " + e.job.attempt);
});

// an order queues its confirmation in the same transaction as its own write
onRecordCreate((e) => {
  e.next();
  $jobs.enqueue("trace", { note: "order " + e.record.getString("ref") }, { backoff: 0 });
  if (e.record.getString("ref") === "rollback") throw new BadRequestError("no such order");
}, "orders");

routerAdd("POST", "/api/test/enqueue", (e) => {
  const b = e.requestInfo().body;
  return e.json(200, { id: $jobs.enqueue(b.name, b.payload, b.options) });
});
`;

describe('job queue', () => {
  let server;
  let su;
  let hooksDir;
  const runsOf = async (job) => (await su.collection('runs').getFullList({ filter: `job = "${job}"`, sort: 'attempt' })).map((r) => r.attempt);
  async function waitFor(id, status, ms = 15_000) {
    const deadline = Date.now() + ms;
    for (;;) {
      const job = await su.send(`/api/jobs/${id}`, {});
      if (job.status === status) return job;
      if (Date.now() > deadline) assert.fail(`job ${id} is ${job.status}, not ${status}: ${JSON.stringify(job)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  const enqueue = async (name, payload, options) => (await su.send('/api/test/enqueue', { method: 'POST', body: { name, payload, options } })).id;

  before(async () => {
    hooksDir = mkdtempSync(join(tmpdir(), 'kiln-jobs-hooks-'));
    writeFileSync(join(hooksDir, 'jobs.pb.js'), HOOKS);
    server = await startServer({ serveArgs: ['--hooksDir', hooksDir] });
    su = await newSuperuser(server.url);
    await su.collections.create({ name: 'runs', type: 'base', fields: [{ name: 'job', type: 'text' }, { name: 'attempt', type: 'number' }, { name: 'note', type: 'text' }] });
    await su.collections.create({ name: 'orders', type: 'base', createRule: '', fields: [{ name: 'ref', type: 'text' }] });
  });

  after(async () => {
    await stopServer(server, failed());
    rmSync(hooksDir, { recursive: true, force: true });
  });

  it('a job queued by a hook runs; a failing one is retried with backoff until it succeeds', async () => {
    const ok = await enqueue('trace', { note: 'hello' }, {});
    const job = await waitFor(ok, 'done');
    assert.equal(job.attempts, 1);
    assert.deepEqual(await runsOf(ok), [1]);
    const flaky = await enqueue('trace', { failTimes: 2 }, { backoff: 100 });
    const started = Date.now();
    const done = await waitFor(flaky, 'done');
    assert.equal(done.attempts, 3);
    assert.equal(done.lastError, '');
    assert.deepEqual(await runsOf(flaky), [1, 2, 3]);
    assert.ok(Date.now() - started >= 300, 'waited 100 then 200 ms between attempts');
  });

  it('a job whose attempts run out is a dead letter, listed and retried from the API', async () => {
    const dead = await enqueue('trace', { failTimes: 99 }, { maxAttempts: 2, backoff: 0 });
    const job = await waitFor(dead, 'failed');
    assert.equal(job.attempts, 2);
    assert.equal(job.lastError, 'failing attempt 2');
    const list = await su.send('/api/jobs', { query: { status: 'failed' } });
    assert.ok(list.items.some((j) => j.id === dead));
    assert.ok(list.items.every((j) => j.status === 'failed'));
    const retried = await su.send(`/api/jobs/${dead}/retry`, { method: 'POST' });
    assert.equal(retried.attempts, 0);
    await waitFor(dead, 'failed');
    assert.deepEqual(await runsOf(dead), [1, 1, 2, 2], 'two runs before the retry, two after');
    await su.send(`/api/jobs/${dead}`, { method: 'DELETE' });
    await rejects(() => su.send(`/api/jobs/${dead}`, {}), 404);
  });

  it('a job is queued with its hook transaction, or not at all', async () => {
    const pb = newClient(server.url);
    await pb.collection('orders').create({ ref: 'A-1' });
    await rejects(() => pb.collection('orders').create({ ref: 'rollback' }), 400);
    const deadline = Date.now() + 10_000;
    let notes = [];
    while (Date.now() < deadline) {
      notes = (await su.collection('runs').getFullList({ filter: 'note ~ "order "' })).map((r) => r.note);
      if (notes.length) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    await new Promise((r) => setTimeout(r, 500));
    notes = (await su.collection('runs').getFullList({ filter: 'note ~ "order "' })).map((r) => r.note);
    assert.deepEqual(notes, ['order A-1'], 'the rolled back order queued nothing');
    assert.equal((await su.send('/api/jobs', { query: { name: 'trace', perPage: 500 } })).items.filter((j) => j.payload?.note === 'order rollback').length, 0);
  });

  it('runAt delays a job; a unique key holds while its job waits; the API queues and refuses bad input', async () => {
    const runAt = new Date(Date.now() + 1500).toISOString().replace('T', ' ');
    const a = await su.send('/api/jobs', { method: 'POST', body: { name: 'trace', payload: { note: 'later' }, runAt, uniqueKey: 'nightly' } });
    assert.equal(a.status, 'queued');
    const b = await su.send('/api/jobs', { method: 'POST', body: { name: 'trace', payload: { note: 'later again' }, uniqueKey: 'nightly' } });
    assert.equal(b.id, a.id, 'the waiting job with that key is the answer');
    await new Promise((r) => setTimeout(r, 700));
    assert.equal((await su.send(`/api/jobs/${a.id}`, {})).status, 'queued', 'not before runAt');
    await waitFor(a.id, 'done');
    // once done, the key is free again
    const c = await su.send('/api/jobs', { method: 'POST', body: { name: 'trace', payload: { note: 'next night' }, uniqueKey: 'nightly' } });
    assert.notEqual(c.id, a.id);
    await waitFor(c.id, 'done');

    const bad = await rejects(() => su.send('/api/jobs', { method: 'POST', body: { name: 'no spaces allowed', payload: {} } }), 400);
    assert.ok(bad.response.data.name);
    await rejects(() => su.send('/api/jobs', { method: 'POST', body: { name: 'trace', maxAttempts: 0 } }), 400);
    await rejects(() => su.send('/api/jobs', { method: 'POST', body: { name: 'trace', runAt: 'tomorrow' } }), 400);
    // superusers only
    await rejects(() => newClient(server.url).send('/api/jobs', {}), 401);
  });

  it('a job no handler takes waits queued', async () => {
    const id = (await su.send('/api/jobs', { method: 'POST', body: { name: 'nobody', payload: 1 } })).id;
    await new Promise((r) => setTimeout(r, 1200));
    const job = await su.send(`/api/jobs/${id}`, {});
    assert.equal(job.status, 'queued');
    assert.equal(job.attempts, 0);
  });
});
