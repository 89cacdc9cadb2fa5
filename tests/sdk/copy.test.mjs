// `kiln copy`: a SQLite data dir with collections, records, users and settings copied into
// PostgreSQL; a server on the copy answers as the original did (PostgreSQL runs only).
import { after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { startServer } from './server.mjs';
import { newClient, newSuperuser, suite } from './helpers.mjs';

const PG = process.env.KILN_TEST_DATABASE_URL;
const skip = PG ? false : 'needs KILN_TEST_DATABASE_URL (PostgreSQL)';
const { it, failed } = suite(120_000);
const servers = [];

after(async () => {
  for (const s of servers) {
    if (failed()) console.error(s.logs());
    await s.stop({ keep: failed() });
  }
});

it('copies a SQLite data dir into PostgreSQL and verifies it', { skip }, async () => {
  const schema = `kiln_copy_${process.pid}`;
  const src = await startServer({ env: { KILN_DATABASE_URL: '' } });
  servers.push(src);
  const su = await newSuperuser(src.url);
  await su.settings.update({ meta: { appName: 'Copied app' } });
  const users = await su.collections.getOne('users');
  await su.collections.create({
    name: 'posts', type: 'base', listRule: '', viewRule: '',
    fields: [
      { name: 'title', type: 'text' }, { name: 'views', type: 'number' }, { name: 'ok', type: 'bool' },
      { name: 'meta', type: 'json' }, { name: 'tags', type: 'select', values: ['a', 'b'], maxSelect: 2 },
      { name: 'author', type: 'relation', collectionId: users.id, maxSelect: 1 },
    ],
    indexes: ['CREATE INDEX idx_posts_title ON posts (title)'],
  });
  await su.collections.create({ name: 'post_titles', type: 'view', listRule: '', viewQuery: 'SELECT id, title FROM posts' });
  const user = await su.collection('users').create({ email: 'u@example.com', password: 'secret-pass-1', passwordConfirm: 'secret-pass-1' });
  for (let i = 0; i < 1200; i++) {
    await su.collection('posts').create({ title: `post ${i}`, views: i, ok: i % 2 === 0, meta: { i }, tags: ['a'], author: user.id });
  }
  const before = await su.collection('posts').getList(1, 50, { sort: '-views', filter: 'ok = true && views > 100', expand: 'author' });
  await src.stop({ keep: true });
  servers.pop();

  const bin = src.bin;
  const run = spawnSync(bin, ['copy', '--dir', src.dir, '--to', PG, '--to-schema', schema], { encoding: 'utf8' });
  assert.equal(run.status, 0, `${run.stdout}\n${run.stderr}`);
  assert.match(run.stdout, /posts: 1200 records/);
  assert.match(run.stdout, /Copied and verified/);
  const again = spawnSync(bin, ['copy', '--dir', src.dir, '--to', PG, '--to-schema', schema], { encoding: 'utf8' });
  assert.notEqual(again.status, 0, 'a second copy into the same schema is refused');
  assert.match(again.stderr, /not empty/);

  const dst = await startServer({ env: { KILN_DATABASE_URL: PG, KILN_DATABASE_SCHEMA: schema } });
  servers.push(dst);
  const su2 = await newSuperuser(dst.url);
  const afterCopy = await su2.collection('posts').getList(1, 50, { sort: '-views', filter: 'ok = true && views > 100', expand: 'author' });
  assert.deepEqual(afterCopy, before);
  assert.equal((await su2.settings.getAll()).meta.appName, 'Copied app');
  assert.equal((await newClient(dst.url).collection('post_titles').getList(1, 1)).totalItems, 1200);
  const pb = newClient(dst.url);
  const auth = await pb.collection('users').authWithPassword('u@example.com', 'secret-pass-1');
  assert.equal(auth.record.id, user.id);
});
