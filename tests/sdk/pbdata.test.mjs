// A PocketBase app moves to Kiln by pointing Kiln at its data dir, and can move back: the real
// PocketBase 0.40.6 binary writes a pb_data (an auth user with a bcrypt password, a collection with a
// relation, a record with a file), Kiln serves it (sign-in, lists with expand, the file, a new record),
// and PocketBase opens it again and sees Kiln's record. SQLite only (the data dir is the database).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, pocketbaseBin } from './server.mjs';
import { newClient, newSuperuser, suite } from './helpers.mjs';

const { it, failed } = suite(60_000);


const pbBin = pocketbaseBin();
const skip = process.env.KILN_TEST_DATABASE_URL ? 'the data dir is SQLite' : pbBin ? false : 'pocketbase 0.40.6 not on PATH';
const root = mkdtempSync(join(tmpdir(), 'kiln-pbdata-'));
const dir = join(root, 'pb_data');
const running = [];

after(async () => {
  for (const s of running) {
    if (failed()) console.error(s.logs());
    await s.stop();
  }
  if (!failed()) rmSync(root, { recursive: true, force: true });
  else console.error(`(data dir kept at ${dir})`);
});

async function serve(bin) {
  const server = await startServer({ bin, dir });
  running.push(server);
  return server;
}

async function stop(server) {
  running.splice(running.indexOf(server), 1);
  await server.stop();
}

it('PocketBase writes, Kiln serves, PocketBase opens the data dir again', { skip }, async () => {
  // 1. PocketBase writes the app
  const pb1 = await serve(pbBin);
  let su = await newSuperuser(pb1.url);
  await su.collections.create({
    name: 'posts',
    type: 'base',
    listRule: '',
    viewRule: '',
    createRule: '@request.auth.id != ""',
    fields: [
      { name: 'title', type: 'text' },
      { name: 'author', type: 'relation', collectionId: '_pb_users_auth_', maxSelect: 1 },
      { name: 'created', type: 'autodate', onCreate: true },
      { name: 'attachment', type: 'file', maxSelect: 1 },
    ],
  });
  const alice = await su.collection('users').create({
    email: 'alice@example.com',
    password: 'Passw0rd!123',
    passwordConfirm: 'Passw0rd!123',
    name: 'Alice',
  });
  const form = new FormData();
  form.append('title', 'written by PocketBase');
  form.append('author', alice.id);
  form.append('attachment', new Blob(['stored by PocketBase'], { type: 'text/plain' }), 'note.txt');
  await su.collection('posts').create(form);
  await stop(pb1);

  // 2. Kiln serves it: the bcrypt password signs in, rules and relations work, writes land
  const kiln = await serve(undefined);
  const user = newClient(kiln.url);
  await user.collection('users').authWithPassword('alice@example.com', 'Passw0rd!123');
  const list = await user.collection('posts').getFullList({ expand: 'author', sort: 'created' });
  assert.deepEqual(list.map((p) => [p.title, p.expand?.author?.name]), [['written by PocketBase', 'Alice']]);
  // its stored file, in PocketBase's storage layout
  const file = await fetch(user.files.getURL(list[0], list[0].attachment));
  assert.equal(file.status, 200);
  assert.equal(await file.text(), 'stored by PocketBase');
  await user.collection('posts').create({ title: 'written by Kiln', author: alice.id });
  su = await newSuperuser(kiln.url);
  assert.ok((await su.collections.getOne('posts')).fields.some((f) => f.name === 'author'));
  await stop(kiln);

  // 3. PocketBase opens it again and sees both records; Alice still signs in
  const pb2 = await serve(pbBin);
  const back = newClient(pb2.url);
  await back.collection('users').authWithPassword('alice@example.com', 'Passw0rd!123');
  const titles = (await back.collection('posts').getFullList({ sort: 'created' })).map((p) => p.title);
  assert.deepEqual(titles, ['written by PocketBase', 'written by Kiln']);
});

it('settings PocketBase sealed with --encryptionEnv open in Kiln with the same flag, and the other way', { skip }, async () => {
  const sealedDir = join(root, 'sealed_data');
  const key = { PB_SETTINGS_KEY: 'an-aes-256-key-of-32-bytes-long!' };
  const start = async (bin) => {
    const s = await startServer({ bin, dir: sealedDir, commonArgs: ['--encryptionEnv', 'PB_SETTINGS_KEY'], env: key });
    running.push(s);
    return s;
  };
  const pb1 = await start(pbBin);
  await (await newSuperuser(pb1.url)).settings.update({ meta: { appName: 'Sealed by PocketBase' } });
  await stop(pb1);
  const { readFileSync } = await import('node:fs');
  assert.ok(!readFileSync(join(sealedDir, 'data.db')).includes('Sealed by PocketBase'), 'PocketBase sealed the settings');

  // without the key Kiln refuses to start, and says why
  const { spawnSync } = await import('node:child_process');
  const kilnBin = process.env.KILN_BIN ?? join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'target', 'release', 'kiln');
  const refused = spawnSync(kilnBin, ['serve', '--http', '127.0.0.1:0', '--dir', sealedDir], { encoding: 'utf8', timeout: 20_000 });
  assert.notEqual(refused.status, 0);
  assert.match(refused.stderr, /--encryptionEnv/);

  const kiln = await start(undefined);
  const su = await newSuperuser(kiln.url);
  assert.equal((await su.settings.getAll()).meta.appName, 'Sealed by PocketBase');
  await su.settings.update({ meta: { appName: 'Sealed by Kiln' } });
  await stop(kiln);
  assert.ok(!readFileSync(join(sealedDir, 'data.db')).includes('Sealed by Kiln'), 'Kiln sealed the settings');

  const pb2 = await start(pbBin);
  assert.equal((await (await newSuperuser(pb2.url)).settings.getAll()).meta.appName, 'Sealed by Kiln');
});
