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
