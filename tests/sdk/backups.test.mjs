// Backups through the official SDK (`pb.backups`): create, list, download with a file token,
// upload, delete, and restore — backup, change, restore, and the data (records, stored files, the
// log) is exactly the backup's, served by the reloaded app. Then the crash cases: a kill -9
// during a backup or during a restore leaves a data dir that starts with either the old or the
// new data, never a mix. And a backup made by PocketBase 0.40.6 restores into Kiln.
// SQLite only (a PostgreSQL database is backed up with its own tools; the API says so).
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, startServer, SUPERUSER, pocketbaseBin } from './server.mjs';
import { newClient, newSuperuser, rejects, suite, stopServer } from './helpers.mjs';

const { it, failed } = suite(120_000);
const pg = !!process.env.KILN_TEST_DATABASE_URL;
const pocketbase = /pocketbase/.test(process.env.KILN_BIN ?? '');
let server;
let su;

before(async () => {
  server = await startServer();
  su = await newSuperuser(server.url);
  if (pg) return;
  await su.collections.create({
    name: 'items',
    type: 'base',
    listRule: '',
    viewRule: '',
    fields: [
      { name: 'title', type: 'text' },
      { name: 'n', type: 'number' },
      { name: 'doc', type: 'file', maxSelect: 1, maxSize: 1 << 20 },
    ],
  });
});

after(() => stopServer(server, failed()));

/** Every item as [id, title, n, doc], by id. */
async function items(pb) {
  const list = await pb.collection('items').getFullList({ sort: 'id' });
  return list.map((r) => [r.id, r.title, r.n, r.doc]);
}

/** Waits until `fn()` holds (the app reloads after a restore). */
async function eventually(fn, what) {
  let last;
  for (let i = 0; i < 150; i++) {
    try {
      if (await fn()) return;
    } catch (e) {
      last = e;
    }
    await sleep(200);
  }
  assert.fail(`${what} never held${last ? `: ${last}` : ''}`);
}

it('on PostgreSQL, backups are refused with a message that names the alternative', { skip: !pg }, async () => {
  const err = await rejects(() => su.backups.getFullList(), 400);
  assert.match(err.response.message, /pg_dump/);
});

it('backup, change, restore: the data is exactly the backup\'s', { skip: pg }, async () => {
  const a = await su.collection('items').create({ id: 'item00000000001', title: 'kept', n: 1, doc: new File(['first file'], 'a.txt') });
  await su.collection('items').create({ id: 'item00000000002', title: 'deleted later', n: 2 });
  const before = await items(su);

  await su.backups.create('snapshot.zip');
  const list = await su.backups.getFullList();
  const entry = list.find((b) => b.key === 'snapshot.zip');
  assert.ok(entry && entry.size > 0, JSON.stringify(list));
  assert.match(entry.modified, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}Z$/);
  await rejects(() => su.backups.create('snapshot.zip'), 400);
  await rejects(() => su.backups.create('Bad Name.zip'), 400);

  // download with a superuser's file token
  const token = await su.files.getToken();
  const res = await fetch(su.backups.getDownloadURL(token, 'snapshot.zip'));
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/zip');
  const zip = new Uint8Array(await res.arrayBuffer());
  assert.deepEqual([...zip.slice(0, 2)], [0x50, 0x4b]); // "PK"
  assert.equal((await fetch(su.backups.getDownloadURL('bad', 'snapshot.zip'))).status, 403);
  await rejects(() => newClient(server.url).backups.getFullList(), 401);

  // change everything: a record, a file, a deletion, a new record, the schema
  await su.collection('items').update(a.id, { title: 'changed', doc: new File(['second file'], 'b.txt') });
  await su.collection('items').delete('item00000000002');
  await su.collection('items').create({ title: 'added after' });
  await su.collections.create({ name: 'later', type: 'base', fields: [] });
  assert.notDeepEqual(await items(su), before);

  await su.backups.restore('snapshot.zip');
  await eventually(async () => JSON.stringify(await items(newClient(server.url))) === JSON.stringify(before), 'the restored data');
  const again = await newSuperuser(server.url);
  // (PocketBase re-creates it from the migration its automigrate wrote beside the data dir)
  if (!pocketbase) await rejects(() => again.collections.getOne('later'), 404);
  const restored = await again.collection('items').getOne(a.id);
  const file = await fetch(again.files.getURL(restored, restored.doc)).then((r) => r.text());
  assert.equal(file, 'first file');
  // the backups themselves are not part of the data: still listed
  assert.ok((await again.backups.getFullList()).some((b) => b.key === 'snapshot.zip'));
  // the server's own lines go to the log too (Kiln: the reload is one of them)
  if (!pocketbase) {
    await eventually(async () => (await again.logs.getList(1, 1, { filter: 'message = "the app reloaded with the restored backup"' })).totalItems === 1, 'the reload in the log');
  }
  su = again;
});

it('upload and delete', { skip: pg }, async () => {
  const token = await su.files.getToken();
  const zip = await fetch(su.backups.getDownloadURL(token, 'snapshot.zip')).then((r) => r.arrayBuffer());
  await su.backups.upload({ file: new File([zip], 'copy.zip', { type: 'application/zip' }) });
  await rejects(() => su.backups.upload({ file: new File([zip], 'copy.zip', { type: 'application/zip' }) }), 400);
  await rejects(() => su.backups.upload({ file: new File(['not a zip'], 'text.zip') }), 400);
  assert.ok((await su.backups.getFullList()).some((b) => b.key === 'copy.zip'));
  await su.backups.delete('copy.zip');
  assert.ok(!(await su.backups.getFullList()).some((b) => b.key === 'copy.zip'));
  await rejects(() => su.backups.delete('copy.zip'), 400);
  await rejects(() => su.backups.restore('copy.zip'), 400, 'Missing or invalid backup file.');
});

it('the auto backup runs from the cron settings and keeps the newest', { skip: pg || pocketbase }, async () => {
  await rejects(() => su.settings.update({ backups: { cron: '0 0 * *' } }), 400);
  await su.settings.update({ backups: { cron: '0 3 * * *', cronMaxKeep: 1 } });
  const jobs = await su.crons.getFullList();
  assert.ok(jobs.some((j) => j.id === '__pbAutoBackup__' && j.expression === '0 3 * * *'), JSON.stringify(jobs));
  await su.crons.run('__pbAutoBackup__');
  await eventually(async () => (await su.backups.getFullList()).some((b) => b.key.startsWith('@auto_pb_backup_')), 'an auto backup');
  await sleep(1100); // names carry the second
  await su.crons.run('__pbAutoBackup__');
  await eventually(async () => {
    const autos = (await su.backups.getFullList()).filter((b) => b.key.startsWith('@auto_pb_backup_'));
    return autos.length === 1 && autos[0].key !== undefined;
  }, 'one auto backup kept');
  await su.settings.update({ backups: { cron: '' } });
  assert.ok(!(await su.crons.getFullList()).some((j) => j.id === '__pbAutoBackup__'));
});

/** A Kiln server on `dir` (started again after a kill). */
async function restart(dir) {
  return startServer({ dir });
}

it('kill -9 during a backup or a restore: the data dir starts with the old data or the new', { skip: pg || pocketbase }, async () => {
  let s = await startServer();
  try {
    let pb = await newSuperuser(s.url);
    await pb.collections.create({ name: 'rows', type: 'base', listRule: '', fields: [{ name: 'v', type: 'text' }, { name: 'f', type: 'file', maxSize: 5 << 20 }] });
    const blob = 'x'.repeat(2 << 20);
    for (let i = 0; i < 8; i++) await pb.collection('rows').create({ v: 'old', f: new File([blob], `f${i}.txt`) });
    await pb.backups.create('base.zip');
    const oldCount = 8;
    for (let i = 0; i < 4; i++) await pb.collection('rows').create({ v: 'new' });

    for (const delay of [0, 5, 20, 60, 150, 400]) {
      // a backup cut short leaves no archive behind
      pb.backups.create(`cut${delay}.zip`).catch(() => {});
      await sleep(delay);
      await s.kill();
      s = await restart(s.dir);
      pb = await newSuperuser(s.url);
      const keys = (await pb.backups.getFullList()).map((b) => b.key);
      if (keys.includes(`cut${delay}.zip`)) {
        const token = await pb.files.getToken();
        const zip = await fetch(pb.backups.getDownloadURL(token, `cut${delay}.zip`)).then((r) => r.arrayBuffer());
        assert.ok(zip.byteLength > 1000, 'a listed backup is complete');
      }
      assert.ok(!readdirSync(join(s.dir, 'backups')).some((n) => n.startsWith('.')), 'no partial upload');

      // a restore cut short: all old rows (the backup's) or all current ones, never a mix
      const current = (await pb.collection('rows').getFullList()).length;
      pb.backups.restore('base.zip').catch(() => {});
      await sleep(delay * 3);
      await s.kill();
      s = await restart(s.dir);
      pb = await newSuperuser(s.url);
      const rows = await pb.collection('rows').getFullList();
      const values = new Set(rows.map((r) => r.v));
      if (rows.length === oldCount) {
        assert.deepEqual([...values], ['old']);
      } else {
        assert.equal(rows.length, current, `rows after a restore cut at ${delay * 3} ms`);
      }
      // the files of whichever data it holds are there
      for (const r of rows.filter((r) => r.f)) {
        const res = await fetch(pb.files.getURL(r, r.f));
        assert.equal(res.status, 200, `file of ${r.id}`);
      }
      assert.ok(!existsSync(join(s.dir, '.restore')));
      // back to a known state with more rows than the backup
      if (rows.length === oldCount) for (let i = 0; i < 4; i++) await pb.collection('rows').create({ v: 'new' });
    }
  } finally {
    if (failed()) console.error(s.logs());
    await s.stop();
  }
});


it('a backup made by PocketBase 0.40.6 restores into Kiln', { skip: pg || pocketbase || !pocketbaseBin() }, async () => {
  const pbServer = await startServer({ bin: pocketbaseBin() });
  let zip;
  try {
    const pb = await newSuperuser(pbServer.url);
    await pb.collections.create({ name: 'from_pb', type: 'base', listRule: '', viewRule: '', fields: [{ name: 'title', type: 'text' }, { name: 'doc', type: 'file', maxSelect: 1 }] });
    await pb.collection('from_pb').create({ id: 'frompb000000001', title: 'made by PocketBase', doc: new File(['pb file'], 'pb.txt') });
    await pb.backups.create('from_pb.zip');
    const token = await pb.files.getToken();
    zip = await fetch(pb.backups.getDownloadURL(token, 'from_pb.zip')).then((r) => r.arrayBuffer());
  } finally {
    await pbServer.stop();
  }
  await su.backups.upload({ file: new File([zip], 'from_pb.zip', { type: 'application/zip' }) });
  await su.backups.restore('from_pb.zip');
  await eventually(async () => (await newClient(server.url).collection('from_pb').getOne('frompb000000001')).title === 'made by PocketBase', 'the PocketBase data');
  const guest = newClient(server.url);
  const rec = await guest.collection('from_pb').getOne('frompb000000001');
  assert.equal(await fetch(guest.files.getURL(rec, rec.doc)).then((r) => r.text()), 'pb file');
  // the superuser of the backup signs in (same credentials in this test)
  su = await newSuperuser(server.url);
});
