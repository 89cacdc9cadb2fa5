// End-to-end: file fields through the official SDK — uploads (FormData), getURL, thumbnails,
// protected files with file tokens, ranges, modifiers, and the attack cases (type spoofing,
// oversized files, SVG with script, path traversal names). Local storage; the same flow runs
// on S3 storage in s3.test.mjs. Passes against PocketBase 0.40.6 too:
//   cd tests/sdk && KILN_BIN=$(which pocketbase) node --test files.test.mjs
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './server.mjs';
import { newClient, newSuperuser, suite, stopServer } from './helpers.mjs';
import { fileFlows } from './services/file_flows.mjs';

let server;
const { it, failed } = suite(60_000);

before(async () => {
  server = await startServer();
});

after(() => stopServer(server, failed()));

for (const [name, fn] of fileFlows(() => ({ url: server.url, client: () => newClient(server.url), superuser: () => newSuperuser(server.url) }))) {
  it(name, fn);
}

it('stored names cannot escape the record directory', async () => {
  const su = await newSuperuser(server.url);
  const rec = await su.collection('docs').create({ title: 'traversal', attachments: [new File(['x'], '../../../etc/passwd')] });
  assert.match(rec.attachments[0], /^passwd_[a-z0-9]{10}\.txt$/); // no extension: one from the sniffed type
  assert.ok(!rec.attachments[0].includes('/'));
});
