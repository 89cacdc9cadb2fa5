// pb_migrations (PocketBase's JavaScript migrations) in Kiln: the same files give PocketBase 0.40.6
// and Kiln the same collections and records; each file applies whole or not at all and once;
// `kiln migrate up|down|create|collections|history-sync` work as PocketBase's; with automigrate
// on, a collection changed through the API writes the migration file PocketBase would write.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import PocketBase from 'pocketbase';
import { REPO, startServer, SUPERUSER, pocketbaseBin } from './server.mjs';

const KILN = process.env.KILN_BIN ?? join(REPO, 'target', 'release', 'kiln');

const MIGRATIONS = {
  '1700000000_created_posts.js': String.raw`/// <reference path="../pb_data/types.d.ts" />
migrate((app) => {
  const collection = new Collection({
    "id": "pbc_posts0000001",
    "name": "posts",
    "type": "base",
    "listRule": "",
    "viewRule": "",
    "createRule": null,
    "updateRule": null,
    "deleteRule": null,
    "fields": [
      { "id": "text3208210256", "name": "id", "type": "text", "system": true, "primaryKey": true, "required": true, "min": 15, "max": 15, "pattern": "^[a-z0-9]+$", "autogeneratePattern": "[a-z0-9]{15}" },
      { "id": "text724990059", "name": "title", "type": "text", "required": true, "max": 200 },
      { "id": "number1234", "name": "views", "type": "number", "min": 0 }
    ],
    "indexes": ["CREATE INDEX ` + "`idx_posts_title`" + ` ON ` + "`posts`" + ` (` + "`title`" + `)"]
  });
  return app.save(collection);
}, (app) => {
  const collection = app.findCollectionByNameOrId("pbc_posts0000001");
  return app.delete(collection);
})
`,
  '1700000100_updated_posts.js': String.raw`/// <reference path="../pb_data/types.d.ts" />
migrate((app) => {
  const collection = app.findCollectionByNameOrId("pbc_posts0000001")

  // update collection data
  unmarshal({
    "createRule": "@request.auth.id != ''"
  }, collection)

  // add field
  collection.fields.addAt(3, new Field({
    "hidden": false,
    "id": "bool1111",
    "name": "published",
    "presentable": false,
    "required": false,
    "system": false,
    "type": "bool"
  }))

  // remove field
  collection.fields.removeById("number1234")

  return app.save(collection)
}, (app) => {
  const collection = app.findCollectionByNameOrId("pbc_posts0000001")

  unmarshal({
    "createRule": null
  }, collection)

  collection.fields.addAt(2, new Field({
    "id": "number1234",
    "name": "views",
    "type": "number",
    "min": 0
  }))

  collection.fields.removeById("bool1111")

  return app.save(collection)
})
`,
  '1700000200_seed.js': String.raw`migrate((app) => {
  const posts = app.findCollectionByNameOrId("posts");
  for (const [id, title] of [["seed00000000001", "Hello"], ["seed00000000002", "World"]]) {
    const r = new Record(posts);
    r.set("id", id);
    r.set("title", title);
    r.set("published", true);
    app.save(r);
  }
  app.db().newQuery("UPDATE posts SET title = title || {:suffix} WHERE id = {:id}").bind({ suffix: "!", id: "seed00000000002" }).execute();
}, (app) => {
  app.db().newQuery("DELETE FROM posts WHERE id LIKE 'seed%'").execute();
})
`,
};

function migrationsDir(files) {
  const root = mkdtempSync(join(tmpdir(), 'kiln-migrations-'));
  for (const [name, src] of Object.entries(files)) writeFileSync(join(root, name), src);
  return root;
}

async function state(server) {
  const pb = new PocketBase(server.url);
  await pb.collection('_superusers').authWithPassword(SUPERUSER.email, SUPERUSER.password);
  const posts = await pb.collections.getOne('posts');
  const records = await pb.collection('posts').getFullList({ sort: 'id' });
  const strip = ({ created, updated, ...rest }) => rest;
  return { posts: strip(posts), records: records.map(({ collectionId, ...r }) => r) };
}

describe('pb_migrations', () => {
  let dir;
  before(() => (dir = migrationsDir(MIGRATIONS)));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('give Kiln the collections and records PocketBase 0.40.6 gets from the same files', { skip: !pocketbaseBin() }, async () => {
    const kiln = await startServer({ serveArgs: ['--migrationsDir', dir] });
    const pbs = await startServer({ bin: pocketbaseBin(), serveArgs: ['--migrationsDir', dir, '--automigrate=false'] });
    try {
      const ours = await state(kiln);
      const theirs = await state(pbs);
      assert.deepEqual(ours, theirs);
      assert.deepEqual(ours.records.map((r) => r.title), ['Hello', 'World!']);
    } finally {
      await kiln.stop();
      await pbs.stop();
    }
  });

  it('apply once, whole or not at all, and revert with migrate down', async () => {
    const server = await startServer({ serveArgs: ['--migrationsDir', dir] });
    const data = server.dir;
    await server.stop({ keep: true });
    const cli = (...args) => spawnSync(KILN, [...args, '--dir', data, '--migrationsDir', dir], { encoding: 'utf8', env: server.env });
    try {
      // applied at the first start: nothing left to apply
      let r = cli('migrate', 'up');
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /No new migrations to apply/);

      // a file that fails half-way leaves nothing behind, and says which file
      writeFileSync(join(dir, '1700000300_broken.js'), String.raw`migrate((app) => {
  const c = new Collection({ name: "halfway", type: "base", fields: [{ name: "x", type: "text" }] });
  app.save(c);
  throw new Error("stop here");
})
`);
      r = cli('migrate', 'up');
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, /1700000300_broken\.js: stop here/);
      rmSync(join(dir, '1700000300_broken.js'));

      r = cli('migrate', 'down', '2');
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /Reverted 1700000200_seed\.js\nReverted 1700000100_updated_posts\.js/);

      const again = await startServer({ dir: data, env: server.env.KILN_DATABASE_SCHEMA ? { KILN_DATABASE_SCHEMA: server.env.KILN_DATABASE_SCHEMA } : {}, serveArgs: ['--migrationsDir', dir] });
      try {
        const { posts, records } = await state(again);
        assert.deepEqual(records.map((x) => x.title), ['Hello', 'World!'], 'start applied the reverted files again');
        assert.ok(posts.fields.some((f) => f.name === 'published'));
        const pb = new PocketBase(again.url);
        await pb.collection('_superusers').authWithPassword(SUPERUSER.email, SUPERUSER.password);
        await assert.rejects(pb.collections.getOne('halfway'), /404|wasn't found/);
      } finally {
        await again.stop({ keep: true });
      }

      // history-sync forgets files that are gone; create writes a blank one
      rmSync(join(dir, '1700000200_seed.js'));
      r = cli('migrate', 'history-sync');
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /1700000200_seed\.js/);
      writeFileSync(join(dir, '1700000200_seed.js'), MIGRATIONS['1700000200_seed.js']);
      r = cli('migrate', 'create', 'add_tags');
      assert.equal(r.status, 0, r.stderr);
      const created = readdirSync(dir).find((f) => f.endsWith('_add_tags.js'));
      assert.ok(created);
      assert.match(readFileSync(join(dir, created), 'utf8'), /migrate\(\(app\) => \{/);
      rmSync(join(dir, created));
    } finally {
      rmSync(server.root, { recursive: true, force: true });
    }
  });
});

describe('automigrate', () => {
  it('writes the migration file PocketBase 0.40.6 writes for the same change', { skip: !pocketbaseBin() }, async () => {
    const ours = mkdtempSync(join(tmpdir(), 'kiln-auto-'));
    const theirs = mkdtempSync(join(tmpdir(), 'kiln-auto-'));
    const kiln = await startServer({ serveArgs: ['--migrationsDir', ours, '--automigrate'] });
    const pbs = await startServer({ bin: pocketbaseBin(), serveArgs: ['--migrationsDir', theirs] });
    try {
      for (const server of [kiln, pbs]) {
        const pb = new PocketBase(server.url);
        await pb.collection('_superusers').authWithPassword(SUPERUSER.email, SUPERUSER.password);
        await pb.collections.create({ id: 'pbc_notes000001', name: 'notes', type: 'base', fields: [{ id: 'text0000000001', name: 'body', type: 'text' }] });
        await pb.collections.update('notes', { listRule: '', fields: [{ id: 'text0000000001', name: 'body', type: 'text', max: 50 }, { id: 'bool0000000001', name: 'done', type: 'bool' }] });
        await pb.collections.delete('notes');
      }
      // by name without the timestamp: two files written in the same second sort by their names
      const files = (d) => readdirSync(d)
        .map((f) => [f.replace(/^\d+/, 'T'), readFileSync(join(d, f), 'utf8')])
        .sort((a, b) => a[0].localeCompare(b[0]));
      assert.deepEqual(files(ours), files(theirs));
      assert.equal(files(ours).length, 3);
    } finally {
      await kiln.stop();
      await pbs.stop();
      for (const d of [ours, theirs]) if (existsSync(d)) rmSync(d, { recursive: true, force: true });
    }
  });
});
