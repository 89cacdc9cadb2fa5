// End-to-end: the file flows of files.test.mjs with S3 storage, against a real S3-compatible
// server (moto, services/s3.mjs) configured through the settings API. Passes against
// PocketBase 0.40.6 too.
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './server.mjs';
import { newClient, newSuperuser, rejects, suite } from './helpers.mjs';
import { fileFlows } from './services/file_flows.mjs';
import { startS3 } from './services/s3.mjs';

let server;
let s3;
const { it, failed } = suite(60_000);

before(async () => {
  s3 = await startS3();
  server = await startServer();
});

after(async () => {
  await s3?.stop();
  if (!server) return;
  if (failed()) {
    console.error(server.logs());
    console.error(s3?.logs());
    console.error(`(server temp dir kept at ${server.root})`);
  }
  await server.stop({ keep: failed() });
});

it('s3: settings point storage at the S3 server; the test endpoint checks it', async () => {
  const su = await newSuperuser(server.url);
  await rejects(() => su.settings.testS3('storage'), 400); // not enabled yet
  const saved = await su.settings.update({
    s3: { enabled: true, bucket: s3.bucket, region: 'us-east-1', endpoint: s3.endpoint, accessKey: 'kiln-key', secret: 'kiln-secret', forcePathStyle: true },
  });
  assert.equal(saved.s3.enabled, true);
  assert.equal(saved.s3.secret, undefined, 'the secret is never sent back');
  await su.settings.testS3('storage');
});

for (const [name, fn] of fileFlows(() => ({ url: server.url, client: () => newClient(server.url), superuser: () => newSuperuser(server.url) }))) {
  it(`s3 ${name}`, fn);
}

it('s3: blobs live in the bucket, and a deleted record leaves none behind', async () => {
  const su = await newSuperuser(server.url);
  const docs = await su.collections.getOne('docs');
  const rec = await su.collection('docs').create({ title: 'in s3', attachments: [new File(['s3 body'], 'note.txt')] });
  const keys = await s3.keys(`${docs.id}/${rec.id}/`);
  assert.deepEqual(keys, [`${docs.id}/${rec.id}/${rec.attachments[0]}`], JSON.stringify(keys));
  await su.collection('docs').delete(rec.id);
  // PocketBase removes the blobs in the background after the delete: wait a little.
  let left = [];
  for (let i = 0; i < 50; i++) {
    left = await s3.keys(`${docs.id}/${rec.id}/`);
    if (left.length === 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.deepEqual(left, []);
});

it('s3: backups kept in the backups.s3 bucket — create, list, download, restore', { skip: !!process.env.KILN_TEST_DATABASE_URL }, async () => {
  const su = await newSuperuser(server.url);
  const bucket = await startS3('kiln-backups');
  try {
    await su.settings.update({
      backups: { s3: { enabled: true, bucket: bucket.bucket, region: 'us-east-1', endpoint: bucket.endpoint, accessKey: 'kiln-key', secret: 'kiln-secret', forcePathStyle: true } },
    });
    await su.collections.create({ name: 'bk_s3', type: 'base', listRule: '', viewRule: '', fields: [{ name: 'v', type: 'text' }] });
    await su.collection('bk_s3').create({ id: 'bks300000000001', v: 'in the backup' });
    await su.backups.create('on_s3.zip');
    assert.deepEqual(await bucket.keys(), ['on_s3.zip']);
    const listed = await su.backups.getFullList();
    assert.ok(listed.some((b) => b.key === 'on_s3.zip' && b.size > 0 && b.modified), JSON.stringify(listed));
    const token = await su.files.getToken();
    const res = await fetch(su.backups.getDownloadURL(token, 'on_s3.zip'));
    assert.equal(res.status, 200);
    assert.deepEqual([...new Uint8Array(await res.arrayBuffer()).slice(0, 2)], [0x50, 0x4b]);

    await su.collection('bk_s3').update('bks300000000001', { v: 'changed' });
    await su.backups.restore('on_s3.zip');
    let v;
    for (let i = 0; i < 100 && v !== 'in the backup'; i++) {
      await new Promise((r) => setTimeout(r, 200));
      v = await newClient(server.url).collection('bk_s3').getOne('bks300000000001').then((r) => r.v, () => undefined);
    }
    assert.equal(v, 'in the backup');
    const again = await newSuperuser(server.url);
    await again.backups.delete('on_s3.zip');
    assert.deepEqual(await bucket.keys(), []);
  } finally {
    await bucket.stop();
  }
});
