// GraphQL at /api/graphql, driven by stock clients: graphql-request for queries and mutations,
// graphql-ws (the graphql-transport-ws protocol) for subscriptions, a multipart request per the
// GraphQL multipart request spec for uploads. graphql-core validates the schema each class of
// caller sees (tools/graphql/check.py). The records API's access rules are run again through
// GraphQL for a guest and two users, beside the REST API (the PocketBase SDK): the same records,
// the same refusals, and no record a rule hides reachable through a nested field.
import { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GraphQLClient, ClientError } from 'graphql-request';
import { createClient } from 'graphql-ws';
import { getIntrospectionQuery } from 'graphql';
import WebSocket from 'ws';
import { startServer } from './server.mjs';
import { newClient, newSuperuser, rejects, stopServer, suite } from './helpers.mjs';

const { it, failed } = suite(60_000);
const CHECK = join(import.meta.dirname, '..', '..', 'tools', 'graphql', 'check.py');

/** Runs tools/graphql/check.py on an introspection answer (and documents); its output when it fails. */
function check(introspection, documents = []) {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-graphql-'));
  try {
    writeFileSync(join(dir, 'schema.json'), JSON.stringify(introspection));
    writeFileSync(join(dir, 'docs.graphql'), documents.join('\n---\n'));
    const r = spawnSync('python3', [CHECK, join(dir, 'schema.json'), join(dir, 'docs.graphql')], { encoding: 'utf8' });
    return r.status === 0 ? '' : `${r.stdout}${r.stderr}` || `exit ${r.status}`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The GraphQL error of a failed request (graphql-request throws ClientError). */
async function gqlError(fn) {
  try {
    await fn();
  } catch (e) {
    assert.ok(e instanceof ClientError, `unexpected error: ${e?.stack ?? e}`);
    return e.response.errors[0];
  }
  assert.fail('expected a GraphQL error');
}

const sortIds = (items) => items.map((r) => r.id).sort();

describe('GraphQL API', () => {
  let server;
  let su;
  const users = {};
  const clients = {};
  const ids = {};
  const gql = (who) => new GraphQLClient(`${server.url}/api/graphql`, { headers: who && users[who] ? { Authorization: users[who].token } : {} });

  before(async () => {
    server = await startServer();
    su = await newSuperuser(server.url);
    const usersC = await su.collections.getOne('users');
    await su.collections.update('users', { listRule: 'id = @request.auth.id', viewRule: '' });
    const authors = await su.collections.create({
      name: 'authors', type: 'base', listRule: '', viewRule: '',
      fields: [{ name: 'name', type: 'text' }, { name: 'secret', type: 'text', hidden: true }],
    });
    const posts = await su.collections.create({
      name: 'posts', type: 'base',
      listRule: 'public = true || owner = @request.auth.id',
      viewRule: 'public = true || owner = @request.auth.id',
      createRule: '@request.auth.id != "" && owner = @request.auth.id',
      updateRule: 'owner = @request.auth.id',
      deleteRule: 'owner = @request.auth.id',
      fields: [
        { name: 'title', type: 'text', required: true },
        { name: 'public', type: 'bool' },
        { name: 'n', type: 'number' },
        { name: 'tags', type: 'select', values: ['a', 'b', 'c'], maxSelect: 3 },
        { name: 'owner', type: 'relation', collectionId: usersC.id, maxSelect: 1 },
        { name: 'author', type: 'relation', collectionId: authors.id, maxSelect: 1 },
        { name: 'cover', type: 'file', maxSelect: 1, maxSize: 1 << 20 },
        { name: 'meta', type: 'json' },
        { name: 'spot', type: 'geoPoint' },
      ],
    });
    await su.collections.create({
      name: 'comments', type: 'base', listRule: '', viewRule: '',
      fields: [{ name: 'text', type: 'text' }, { name: 'post', type: 'relation', collectionId: posts.id, maxSelect: 1 }],
    });
    await su.collections.create({ name: 'secrets', type: 'base', fields: [{ name: 'code', type: 'text' }] });

    for (const name of ['ann', 'bob']) {
      const email = `${name}@example.com`;
      const rec = await su.collection('users').create({ email, password: 'Passw0rd!2345', passwordConfirm: 'Passw0rd!2345', name });
      clients[name] = newClient(server.url);
      const auth = await clients[name].collection('users').authWithPassword(email, 'Passw0rd!2345');
      users[name] = { id: rec.id, token: auth.token };
    }
    const author = await su.collection('authors').create({ name: 'Ada', secret: 's3' });
    ids.author = author.id;
    let n = 0;
    for (const [owner, isPublic] of [['ann', true], ['ann', false], ['bob', true], ['bob', false], ['ann', true]]) {
      n += 1;
      const p = await su.collection('posts').create({ title: `${owner}-${isPublic ? 'pub' : 'priv'}-${n}`, public: isPublic, n, tags: ['a'], owner: users[owner].id, author: author.id, meta: { n } });
      ids[`${owner}${isPublic ? 'Pub' : 'Priv'}`] ??= p.id;
      await su.collection('comments').create({ text: `on ${p.title}`, post: p.id });
    }
    await su.collection('secrets').create({ code: 'x' });
  });

  after(() => stopServer(server, failed()));

  it('the schema of each class of caller validates with graphql-core, and shows what its rules open', async () => {
    const introspect = (who) => gql(who).request(getIntrospectionQuery());
    const guest = await introspect();
    const superuser = await gql().request(getIntrospectionQuery(), {}, { Authorization: su.authStore.token });
    const docs = [
      '{ posts(filter: "n > 1", sort: "-n", page: 1, perPage: 2) { totalItems items { id title tags cover meta spot { lon lat } expand { author { name } comments_via_post { text } } } } }',
      'mutation($f: Upload) { createPosts(data: { title: "t", cover: $f, tags: ["a"], spot: { lon: 1, lat: 2 } }) { id } }',
      'subscription { posts { action record { id } } }',
    ];
    assert.equal(check(guest, docs), '');
    assert.equal(check(superuser, [...docs, '{ secrets { items { code } } }']), '');
    const fieldsOf = (schema, type) => schema.__schema.types.find((t) => t.name === type)?.fields?.map((f) => f.name) ?? null;
    const queries = (schema) => fieldsOf(schema, 'Query');
    assert.ok(queries(guest).includes('posts') && queries(guest).includes('postsById'));
    assert.ok(!queries(guest).includes('secrets'), 'a superuser-only collection is not in a guest schema');
    assert.ok(queries(superuser).includes('secrets'));
    assert.ok(!fieldsOf(guest, 'AuthorsRecord').includes('secret'), 'hidden fields are not in a guest schema');
    assert.ok(fieldsOf(superuser, 'AuthorsRecord').includes('secret'));
    assert.ok(!fieldsOf(guest, 'UsersRecord').includes('password'));
    assert.deepEqual(fieldsOf(guest, 'Mutation').filter((m) => m.endsWith('Posts')).sort(), ['createPosts', 'deletePosts', 'updatePosts']);
    assert.ok(!fieldsOf(guest, 'Mutation').includes('createAuthors'), 'no mutation whose rule is superuser-only');
    // a collection created now is in the next request's schema
    await su.collections.create({ name: 'late', type: 'base', listRule: '', fields: [{ name: 'x', type: 'text' }] });
    assert.ok(queries(await introspect()).includes('late'));
    await su.collections.delete('late');
    assert.ok(!queries(await introspect()).includes('late'));
  });

  it('lists and single records answer as the REST API: filter, sort, paging, totals, rules', async () => {
    const q = `query($filter: String, $sort: String, $page: Int, $perPage: Int) {
      posts(filter: $filter, sort: $sort, page: $page, perPage: $perPage) { page perPage totalItems totalPages items { id title n public tags owner collectionName meta } } }`;
    for (const who of [undefined, 'ann', 'bob']) {
      const rest = who ? clients[who] : newClient(server.url);
      for (const args of [{ sort: '-n' }, { filter: 'n >= 2', sort: 'title', page: 2, perPage: 2 }, { filter: 'tags ?= "a" && public = false' }]) {
        const want = await rest.collection('posts').getList(args.page ?? 1, args.perPage ?? 30, { filter: args.filter, sort: args.sort });
        const got = (await gql(who).request(q, args)).posts;
        assert.deepEqual(
          { page: got.page, perPage: got.perPage, totalItems: got.totalItems, totalPages: got.totalPages, items: got.items },
          { page: want.page, perPage: want.perPage, totalItems: want.totalItems, totalPages: want.totalPages, items: want.items.map(({ id, title, n, public: p, tags, owner, collectionName, meta }) => ({ id, title, n, public: p, tags, owner, collectionName, meta })) },
          `${who ?? 'guest'} ${JSON.stringify(args)}`,
        );
      }
    }
    // skipTotal
    const skipped = await gql().request('{ posts(skipTotal: true) { totalItems totalPages } }');
    assert.deepEqual(skipped.posts, { totalItems: -1, totalPages: -1 });
    // one record: null where REST answers 404
    const one = `query($id: ID!) { postsById(id: $id) { id title } }`;
    assert.equal((await gql('ann').request(one, { id: ids.annPriv })).postsById.id, ids.annPriv);
    assert.equal((await gql('bob').request(one, { id: ids.annPriv })).postsById, null);
    await rejects(() => clients.bob.collection('posts').getOne(ids.annPriv), 404);
    assert.equal((await gql().request(one, { id: 'nosuchrecord123' })).postsById, null);
    // a bad filter is the REST API's 400, under the field's error
    const e = await gqlError(() => gql().request('{ posts(filter: "nosuchfield = 1") { totalItems } }'));
    assert.equal(e.extensions.status, 400);
    await rejects(() => newClient(server.url).collection('posts').getList(1, 30, { filter: 'nosuchfield = 1' }), 400);
    // auth records: another user's email stays hidden, as in REST
    const u = await gql('ann').request('query($id: ID!) { usersById(id: $id) { id email name } }', { id: users.bob.id });
    assert.equal(u.usersById.email, (await clients.ann.collection('users').getOne(users.bob.id)).email ?? null);
  });

  it('nested relations answer as REST expand, and reach no record a rule hides', async () => {
    const q = `{ comments(sort: "text") { items { id text post expand { post { id title expand { author { id name } owner { id name } comments_via_post { id text } } } } } } }`;
    for (const who of [undefined, 'ann', 'bob']) {
      const rest = who ? clients[who] : newClient(server.url);
      const want = await rest.collection('comments').getList(1, 30, { sort: 'text', expand: 'post.author,post.owner,post.comments_via_post' });
      const got = (await gql(who).request(q)).comments.items;
      assert.equal(got.length, want.items.length);
      for (const [i, g] of got.entries()) {
        const w = want.items[i];
        assert.equal(g.id, w.id);
        const wp = w.expand?.post;
        assert.equal(g.expand?.post?.id ?? null, wp?.id ?? null, `${who ?? 'guest'}: comment ${w.text}`);
        if (wp) {
          assert.equal(g.expand.post.expand.author?.name ?? null, wp.expand?.author?.name ?? null);
          assert.equal(g.expand.post.expand.owner?.id ?? null, wp.expand?.owner?.id ?? null);
          assert.deepEqual((g.expand.post.expand.comments_via_post ?? []).map((c) => c.id), (wp.expand?.comments_via_post ?? []).map((c) => c.id));
        }
      }
      // a private post is never reachable through a comment by someone its rule hides it from
      for (const g of got) {
        const title = g.expand?.post?.title;
        if (title?.includes('priv')) assert.ok(title.startsWith(who ?? '-'), `${who ?? 'guest'} reached ${title}`);
      }
    }
    // hidden fields stay hidden in nested records (the guest schema has no such field at all)
    const e = await gqlError(() => gql().request('{ posts { items { expand { author { secret } } } } }'));
    assert.match(e.message, /secret/);
    const sup = await gql().request('{ posts(perPage: 1) { items { expand { author { secret } } } } }', {}, { Authorization: su.authStore.token });
    assert.equal(sup.posts.items[0].expand.author.secret, 's3');
  });

  it('mutations create, update and delete under the same rules as REST; files upload as multipart parts', async () => {
    const create = `mutation($data: PostsCreateInput!) { createPosts(data: $data) { id title owner tags meta spot { lon lat } expand { owner { id } } } }`;
    // a guest may not create (the create rule): the REST API's 400
    const guestErr = await gqlError(() => gql().request(create, { data: { title: 'x', owner: users.ann.id } }));
    assert.equal(guestErr.extensions.status, 400);
    await rejects(() => newClient(server.url).collection('posts').create({ title: 'x', owner: users.ann.id }), 400);
    // validation errors carry the REST API's field errors
    const invalid = await gqlError(() => gql('ann').request(create, { data: { title: '', owner: users.ann.id } }));
    assert.equal(invalid.extensions.status, 400);
    assert.equal(invalid.extensions.data.title.code, 'validation_required');
    const made = (await gql('ann').request(create, { data: { title: 'made', owner: users.ann.id, tags: ['b', 'c'], meta: { k: [1, 2] }, spot: { lon: 10.5, lat: -3 } } })).createPosts;
    assert.equal(made.title, 'made');
    assert.deepEqual(made.tags, ['b', 'c']);
    assert.deepEqual(made.meta, { k: [1, 2] });
    assert.deepEqual(made.spot, { lon: 10.5, lat: -3 });
    assert.equal(made.expand.owner.id, users.ann.id);
    assert.equal((await clients.ann.collection('posts').getOne(made.id)).title, 'made');

    // a file, per the GraphQL multipart request spec
    const form = new FormData();
    form.append('operations', JSON.stringify({ query: 'mutation($id: ID!, $f: Upload) { updatePosts(id: $id, data: { cover: $f }) { id cover } }', variables: { id: made.id, f: null } }));
    form.append('map', JSON.stringify({ 0: ['variables.f'] }));
    form.append('0', new Blob(['GIF89a hello'], { type: 'image/gif' }), 'cover.gif');
    const up = await (await fetch(`${server.url}/api/graphql`, { method: 'POST', body: form, headers: { Authorization: users.ann.token } })).json();
    assert.equal(up.errors, undefined, JSON.stringify(up.errors));
    assert.match(up.data.updatePosts.cover, /^cover_\w+\.gif$/);
    const rec = await clients.ann.collection('posts').getOne(made.id);
    assert.equal(rec.cover, up.data.updatePosts.cover);
    const file = await fetch(clients.ann.files.getURL(rec, rec.cover));
    assert.equal(await file.text(), 'GIF89a hello');
    // an Upload that names no part is refused, and nothing changes
    const forged = await gqlError(() => gql('ann').request('mutation($id: ID!) { updatePosts(id: $id, data: { cover: "#__graphql_file__:7", title: "forged" }) { id } }', { id: made.id }));
    assert.ok(forged.message);
    assert.equal((await clients.ann.collection('posts').getOne(made.id)).title, 'made');
    // null clears a file field
    const cleared = await gql('ann').request('mutation($id: ID!) { updatePosts(id: $id, data: { cover: null }) { cover } }', { id: made.id });
    assert.equal(cleared.updatePosts.cover, '');

    // another user's post: REST answers 404 to update and delete; so does GraphQL, and nothing changes
    const upd = `mutation($id: ID!) { updatePosts(id: $id, data: { title: "taken" }) { id } }`;
    assert.equal((await gqlError(() => gql('bob').request(upd, { id: made.id }))).extensions.status, 404);
    await rejects(() => clients.bob.collection('posts').update(made.id, { title: 'taken' }), 404);
    const del = `mutation($id: ID!) { deletePosts(id: $id) }`;
    assert.equal((await gqlError(() => gql('bob').request(del, { id: made.id }))).extensions.status, 404);
    await rejects(() => clients.bob.collection('posts').delete(made.id), 404);
    assert.equal((await clients.ann.collection('posts').getOne(made.id)).title, 'made');
    // the owner may
    assert.equal((await gql('ann').request(upd, { id: made.id })).updatePosts.id, made.id);
    assert.equal((await clients.ann.collection('posts').getOne(made.id)).title, 'taken');
    assert.deepEqual(await gql('ann').request(del, { id: made.id }), { deletePosts: true });
    await rejects(() => clients.ann.collection('posts').getOne(made.id), 404);
    // mutations need a POST
    const viaGet = await fetch(`${server.url}/api/graphql?query=${encodeURIComponent(`mutation { deletePosts(id: "${ids.annPub}") }`)}`, { headers: { Authorization: users.ann.token } });
    assert.equal(viaGet.status, 405);
    await clients.ann.collection('posts').getOne(ids.annPub);
  });

  it('subscriptions over graphql-transport-ws deliver what realtime delivers, with relations expanded', async () => {
    const events = { ann: [], guest: [] };
    const subscribers = [];
    const subscribe = (who) => new Promise((ready, fail) => {
      const client = createClient({
        url: `${server.url.replace('http', 'ws')}/api/graphql`,
        webSocketImpl: WebSocket,
        connectionParams: who ? { Authorization: users[who].token } : {},
        on: { connected: () => setTimeout(ready, 300) },
      });
      subscribers.push(client);
      client.subscribe(
        { query: 'subscription { posts { action record { id title public expand { author { name } } } } }' },
        { next: (m) => events[who ?? 'guest'].push(m), error: fail, complete: () => {} },
      );
    });
    try {
      await Promise.all([subscribe('ann'), subscribe()]);
      const pub = await clients.bob.collection('posts').create({ title: 'bob-live-pub', public: true, owner: users.bob.id, author: ids.author });
      const priv = await clients.ann.collection('posts').create({ title: 'ann-live-priv', public: false, owner: users.ann.id });
      await clients.ann.collection('posts').update(priv.id, { title: 'ann-live-priv2' });
      await clients.bob.collection('posts').delete(pub.id);
      const deadline = Date.now() + 10_000;
      while ((events.ann.length < 4 || events.guest.length < 2) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const seen = (who) => events[who].map((m) => { assert.equal(m.errors, undefined); return `${m.data.posts.action}:${m.data.posts.record.title}`; });
      assert.deepEqual(seen('ann'), ['create:bob-live-pub', 'create:ann-live-priv', 'update:ann-live-priv2', 'delete:bob-live-pub']);
      assert.deepEqual(seen('guest'), ['create:bob-live-pub', 'delete:bob-live-pub'], 'a guest never sees a private post');
      assert.equal(events.guest[0].data.posts.record.expand.author.name, 'Ada');
      // one socket holds at most 100 subscriptions
      const many = createClient({ url: `${server.url.replace('http', 'ws')}/api/graphql`, webSocketImpl: WebSocket });
      subscribers.push(many);
      const errors = [];
      for (let i = 0; i < 101; i++) {
        many.subscribe({ query: 'subscription { posts { action } }' }, { next: (m) => m.errors && errors.push(m.errors), error: (e) => errors.push(e), complete: () => {} });
      }
      const until = Date.now() + 10_000;
      while (!errors.length && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      assert.equal(errors.length, 1, 'the 101st subscription is refused');
      assert.match(JSON.stringify(errors[0]), /at most 100 subscriptions/);
    } finally {
      await Promise.all(subscribers.map((c) => c.dispose()));
    }
  });

  it('abusive queries are refused: depth, field count, records per request', async () => {
    let nested = 'id';
    for (let i = 0; i < 12; i++) nested = `id expand { post { id expand { comments_via_post { ${nested} } } } }`;
    const deep = await gqlError(() => gql().request(`{ comments { items { ${nested} } } }`));
    assert.match(deep.message, /nested too deep|depth/i);
    const wide = Array.from({ length: 2100 }, (_, i) => `a${i}: health`).join(' ');
    const complex = await gqlError(() => gql().request(`{ ${wide} }`));
    assert.match(complex.message, /complex/i);
    const many = Array.from({ length: 11 }, (_, i) => `p${i}: posts(perPage: 1000) { page }`).join(' ');
    const costly = await gqlError(() => gql().request(`{ ${many} }`));
    assert.match(costly.message, /more than 10000 records/);
    // several mutations in one request are a batch: one while batches are off, then batch.maxRequests
    const two = `mutation { a: createPosts(data: { title: "m1", owner: "${users.ann.id}" }) { id } b: createPosts(data: { title: "m2", owner: "${users.ann.id}" }) { id } }`;
    const refusedTwo = await fetch(`${server.url}/api/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', Authorization: users.ann.token }, body: JSON.stringify({ query: two }) });
    assert.equal(refusedTwo.status, 400);
    assert.match((await refusedTwo.json()).message, /at most 1 mutation/);
    await su.settings.update({ batch: { enabled: true, maxRequests: 5 } });
    const made = await gql('ann').request(two);
    assert.ok(made.a.id && made.b.id);
    await su.settings.update({ batch: { enabled: false } });
    // a malformed body is the API's 400 envelope
    const bad = await fetch(`${server.url}/api/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' });
    assert.equal(bad.status, 400);
    assert.equal((await bad.json()).status, 400);
  });
});
