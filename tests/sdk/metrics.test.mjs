// GET /metrics: who may read it (the metrics token, an allowed address, a superuser), Prometheus'
// own checker (`promtool check metrics`) passing on what it serves, and the request counters
// adding up to the requests sent under concurrent load, with the database, realtime and process
// metrics beside them. Run on SQLite and PostgreSQL (scripts/test).
import { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { EventSource } from 'eventsource';
import { startServer } from './server.mjs';
import { newClient, newSuperuser, stopServer, suite } from './helpers.mjs';

globalThis.EventSource ??= EventSource;
const { it, failed } = suite(90_000);
const TOKEN = 'scrape-token-for-tests';

/** Parses Prometheus' text format into [{ name, labels: {…}, value }]. */
function parse(text) {
  const samples = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/);
    assert.ok(m, `a sample line: ${line}`);
    const labels = {};
    for (const [, k, v] of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[k] = v;
    samples.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return samples;
}

/** The sum of the samples named `name` whose labels include `labels`. */
function sum(samples, name, labels = {}) {
  return samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((a, s) => a + s.value, 0);
}

describe('metrics', () => {
  let server;
  let su;
  const scrape = async (headers = { authorization: `Bearer ${TOKEN}` }) => {
    const res = await fetch(`${server.url}/metrics`, { headers });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
    return res.text();
  };

  before(async () => {
    server = await startServer({ env: { KILN_METRICS_TOKEN: TOKEN } });
    su = await newSuperuser(server.url);
    await su.collections.create({
      name: 'notes', type: 'base', fields: [{ name: 'text', type: 'text' }],
      listRule: '', viewRule: '', createRule: '',
    });
  });

  after(async () => stopServer(server, failed()));

  it('only the token, a superuser or an allowed address may read them', async () => {
    const none = await fetch(`${server.url}/metrics`);
    assert.equal(none.status, 401);
    assert.equal((await none.json()).status, 401, 'the API envelope');
    const wrong = await fetch(`${server.url}/metrics`, { headers: { authorization: 'Bearer nope' } });
    assert.equal(wrong.status, 403);
    const user = await fetch(`${server.url}/metrics`, { headers: { authorization: TOKEN } });
    assert.equal(user.status, 403, 'the token is sent as a bearer token');
    await scrape();
    await scrape({ authorization: su.authStore.token });
    const open = await startServer({ serveArgs: ['--metrics-allow', '10.0.0.0/8, 127.0.0.1'] });
    try {
      assert.equal((await fetch(`${open.url}/metrics`)).status, 200, 'loopback is allowed');
      // not for a page elsewhere read through a visitor, nor a request relayed by an unnamed proxy
      assert.equal((await fetch(`${open.url}/metrics`, { headers: { origin: 'https://elsewhere.example' } })).status, 401);
      assert.equal((await fetch(`${open.url}/metrics`, { headers: { 'x-forwarded-for': '203.0.113.9' } })).status, 401);
    } finally {
      await open.stop();
    }
    const bad = spawnSync(server.bin, ['serve', '--metrics-allow', 'not-an-ip', '--dir', `${server.root}/other`], { encoding: 'utf8', timeout: 10_000 });
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /not-an-ip/);
  });

  it('promtool check metrics passes on what is served', async () => {
    // every kind of metric has samples: a write, a read, a realtime client, a rate-limit hit
    await su.collection('notes').create({ text: 'x' });
    await su.collection('notes').getList(1, 5);
    const text = await scrape();
    const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    assert.equal(check.error, undefined, 'promtool runs (Debian package prometheus)');
    assert.equal(check.status, 0, `promtool: ${check.stdout}${check.stderr}`);
    const s = parse(text);
    for (const name of ['kiln_db_write_duration_seconds_count', 'kiln_db_read_duration_seconds_count', 'kiln_http_request_duration_seconds_count']) {
      assert.ok(sum(s, name) > 0, `${name} counts`);
    }
    assert.ok(sum(s, 'process_resident_memory_bytes') > 1 << 20, 'resident memory');
    if (!process.env.KILN_TEST_DATABASE_URL) assert.ok(sum(s, 'kiln_db_group_commit_size_count') > 0, 'SQLite group commits');
  });

  it('the request counters add up to the requests sent under concurrent load', async () => {
    const guest = newClient(server.url);
    const before = parse(await scrape());
    const realtime = newClient(server.url);
    await realtime.collection('notes').subscribe('*', () => {});
    const sent = { health: 0, list: 0, create: 0, view404: 0 };
    const jobs = [];
    let scrapes = 0;
    for (let i = 0; i < 300; i++) {
      const kind = ['health', 'list', 'create', 'view404'][i % 4];
      sent[kind] += 1;
      jobs.push(
        kind === 'health' ? fetch(`${server.url}/api/health`).then((r) => assert.equal(r.status, 200))
        : kind === 'list' ? guest.collection('notes').getList(1, 10)
        : kind === 'create' ? guest.collection('notes').create({ text: `n${i}` })
        : guest.collection('notes').getOne('missing0000000x').then(() => assert.fail('found'), (e) => assert.equal(e.status, 404)),
      );
      // scrapes while the load runs
      if (i % 50 === 0) jobs.push(scrape().then(() => { scrapes += 1; }));
      if (jobs.length >= 24) await Promise.all(jobs.splice(0));
    }
    await Promise.all(jobs);
    const during = parse(await scrape());
    const delta = (labels) => sum(during, 'kiln_http_requests_total', labels) - sum(before, 'kiln_http_requests_total', labels);
    assert.equal(delta({ route: '/api/health', method: 'GET', status: '200' }), sent.health);
    assert.equal(delta({ route: '/api/collections/{collection}/records', method: 'GET', status: '200' }), sent.list);
    assert.equal(delta({ route: '/api/collections/{collection}/records', method: 'POST', status: '200' }), sent.create);
    assert.equal(delta({ route: '/api/collections/{collection}/records/{id}', method: 'GET', status: '404' }), sent.view404);
    assert.equal(delta({ route: '/metrics' }), scrapes + 1, 'the scrapes between, and the first (a scrape is counted after it renders)');
    const histo = (name, labels) => sum(during, name, labels) - sum(before, name, labels);
    assert.equal(histo('kiln_http_request_duration_seconds_count', { route: '/api/collections/{collection}/records', method: 'POST' }), sent.create);
    // every create is a write
    assert.ok(histo('kiln_db_write_duration_seconds_count') >= sent.create);
    assert.ok(sum(during, 'kiln_realtime_clients') >= 1, 'the subscribed client');
    assert.ok(histo('kiln_realtime_messages_total') >= sent.create, 'each create reached the subscriber');
    // ids and unknown paths add no series
    assert.equal(during.some((s) => /missing0000000x/.test(JSON.stringify(s.labels))), false);
    await realtime.realtime.unsubscribe();
  });
});
