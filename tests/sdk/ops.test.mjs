// The operations endpoints through the official SDK: the request log (`pb.logs`), its settings
// (`logs.logIP`, `logs.logAuthId`, `logs.maxDays`), the cron jobs (`pb.crons`), and the OAuth2
// providers' list. Passes against PocketBase 0.40.6 too (which writes its log every 3 s, hence the
// polling):
//   cd tests/sdk && KILN_BIN=$(which pocketbase) node --test ops.test.mjs
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { startServer } from './server.mjs';
import { newClient, newSuperuser, rejects, suite, stopServer } from './helpers.mjs';

let server;
let su;
const { it, failed } = suite(60_000);

before(async () => {
  server = await startServer();
  su = await newSuperuser(server.url);
  await su.collections.create({
    name: 'notes',
    type: 'base',
    listRule: '',
    createRule: '',
    fields: [{ name: 'title', type: 'text', required: true }],
  });
});

after(() => stopServer(server, failed()));

/** Polls the log until `filter` matches `count` lines (the log is written in batches). */
async function logged(filter, count = 1) {
  for (let i = 0; i < 80; i++) {
    const page = await su.logs.getList(1, 50, { filter, sort: '-@rowid' });
    if (page.totalItems >= count) return page.items;
    await sleep(100);
  }
  assert.fail(`no ${count} log lines match ${filter}`);
}

it('every request is logged with its method, URL, status, duration and caller', async () => {
  const guest = newClient(server.url);
  await guest.collection('notes').create({ title: 'logged' }, { headers: { 'User-Agent': 'ops-test/1', Referer: 'http://app.test/page' } });
  await rejects(() => guest.collection('notes').create({ title: '' }), 400);

  const [ok] = await logged('data.userAgent = "ops-test/1"');
  assert.equal(ok.level, 0);
  assert.equal(ok.message, 'POST /api/collections/notes/records');
  assert.equal(ok.data.type, 'request');
  assert.equal(ok.data.method, 'POST');
  assert.equal(ok.data.url, '/api/collections/notes/records');
  assert.equal(ok.data.status, 200);
  assert.equal(ok.data.auth, '');
  assert.equal(ok.data.referer, 'http://app.test/page');
  assert.equal(ok.data.userIP, '127.0.0.1');
  assert.equal(ok.data.remoteIP, '127.0.0.1');
  assert.equal(typeof ok.data.execTime, 'number');
  assert.match(ok.created, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}Z$/);

  const [bad] = await logged('data.status = 400 && data.url = "/api/collections/notes/records"');
  assert.equal(bad.level, 8);
  assert.equal(bad.data.error, 'Failed to create record.');
  assert.deepEqual(bad.data.details, { title: 'cannot be blank' });

  const one = await su.logs.getOne(ok.id);
  assert.deepEqual(one, ok);
  await rejects(() => su.logs.getOne('nope'), 404);
});

it('the log is for superusers, and reading it does not grow it', async () => {
  await rejects(() => newClient(server.url).logs.getList(), 401);
  const reads = 'data.url ~ "/api/logs" && data.status < 400';
  const before = (await su.logs.getList(1, 1, { filter: reads })).totalItems;
  for (let i = 0; i < 3; i++) await su.logs.getList(1, 1);
  await sleep(3500);
  const after = (await su.logs.getList(1, 1, { filter: reads })).totalItems;
  assert.equal(after, before);
});

it('stats count lines per hour; filters and sorts use the filter language', async () => {
  await su.collection('notes').create({ title: 'by superuser' });
  const [mine] = await logged('data.auth = "_superusers" && data.method = "POST" && data.url ~ "notes"');
  assert.equal(mine.data.auth, '_superusers');
  assert.equal(mine.data.authId, undefined); // logAuthId is off by default

  const stats = await su.logs.getStats({ filter: 'data.status >= 200' });
  assert.ok(stats.length >= 1);
  assert.match(stats[0].date, /^\d{4}-\d\d-\d\d \d\d:00:00\.000Z$/);
  assert.ok(stats.reduce((n, s) => n + s.total, 0) >= 3);
  await rejects(() => su.logs.getStats({ filter: 'bad(' }), 400, 'Invalid filter format.');

  const errors = await su.logs.getList(1, 10, { filter: 'level > 0', sort: '-data.status,created' });
  assert.ok(errors.items.every((l) => l.level === 8));
  await rejects(() => su.logs.getList(1, 10, { filter: 'password = 1' }), 400);
});

it('the settings choose what is logged: IPs, auth ids, nothing at all', async () => {
  await su.settings.update({ logs: { logIP: false, logAuthId: true } });
  await su.collection('notes').create({ title: 'private' }, { headers: { 'User-Agent': 'ops-test/2' } });
  const [line] = await logged('data.userAgent = "ops-test/2"');
  assert.equal(line.data.userIP, undefined);
  assert.equal(line.data.remoteIP, undefined);
  assert.equal(line.data.authId, su.authStore.record.id);

  await su.settings.update({ logs: { maxDays: 0 } });
  await su.collection('notes').create({ title: 'unlogged' }, { headers: { 'User-Agent': 'ops-test/3' } });
  await sleep(3500);
  await su.settings.update({ logs: { maxDays: 7, logIP: true, logAuthId: false } });
  assert.equal((await su.logs.getList(1, 1, { filter: 'data.userAgent = "ops-test/3"' })).totalItems, 0);
});

it('DELETE /api/logs clears the log', async () => {
  await su.collection('notes').create({ title: 'before clearing' });
  await logged('data.status > 0');
  const res = await fetch(`${server.url}/api/logs`, { method: 'DELETE', headers: { authorization: su.authStore.token } });
  assert.equal(res.status, 204);
  await sleep(3500);
  assert.equal((await su.logs.getList(1, 1, { filter: 'data.url !~ "/api/logs"' })).totalItems, 0);
});

it('cron jobs are listed and run on demand', async () => {
  const jobs = await su.crons.getFullList();
  const ids = jobs.map((j) => j.id);
  for (const id of ['__pbDBOptimize__', '__pbMFACleanup__', '__pbOTPCleanup__', '__pbLogsCleanup__']) {
    assert.ok(ids.includes(id), `${id} in ${ids}`);
  }
  assert.equal(jobs.find((j) => j.id === '__pbLogsCleanup__').expression, '0 */6 * * *');
  await su.crons.run('__pbDBOptimize__');
  await su.crons.run('__pbOTPCleanup__');
  await rejects(() => su.crons.run('nope'), 404, 'Missing or invalid cron job.');
  await rejects(() => newClient(server.url).crons.getFullList(), 401);
});

it('the OAuth2 providers are listed for the dashboard: name, display name, an SVG logo', async () => {
  const res = await fetch(`${server.url}/api/collections/meta/oauth2-providers`, { headers: { authorization: su.authStore.token } });
  assert.equal(res.status, 200);
  const list = await res.json();
  for (const name of ['google', 'github', 'apple', 'oidc']) {
    const p = list.find((x) => x.name === name);
    assert.ok(p, `${name} listed`);
    assert.ok(p.displayName.length > 0);
    assert.match(p.logo, /^<svg/);
  }
  assert.ok(list.findIndex((x) => x.name === 'apple') < list.findIndex((x) => x.name === 'oidc'));
  assert.equal((await fetch(`${server.url}/api/collections/meta/oauth2-providers`)).status, 401);
});
