// End-to-end: the official PocketBase JS SDK drives a real `kiln serve`.
// Expected behaviour is PocketBase 0.40's (see ../shared/reference/pocketbase-0.40.6/); the same file
// passes against the real PocketBase binary (KILN_BIN=/path/to/pocketbase node --test tests/sdk/*.test.mjs).
//
// The tests run in order and share state (collections, users, records) through the variables below.
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { EventSource } from 'eventsource';
import { startServer, SUPERUSER } from './server.mjs';
import { newClient, newSuperuser, rejects as expectError, suite, stopServer } from './helpers.mjs';

globalThis.EventSource ??= EventSource; // the SDK's realtime client needs it under Node

let server;
const { it, failed } = suite(30_000);
const client = () => newClient(server.url);
const superuser = () => newSuperuser(server.url);

before(async () => {
  server = await startServer();
});

after(() => stopServer(server, failed()));





/** `expectError`, plus the body's own status (getFirstListItem's 404 is the SDK's own). */
async function rejects(fn, status, message) {
  const err = await expectError(fn, status, message);
  assert.equal(err.response.status ?? err.response.code, status);
  return err;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const RULES = {
  listRule: 'owner = @request.auth.id || n > 100',
  viewRule: 'owner = @request.auth.id || n > 100',
  createRule: '@request.auth.id != ""',
  updateRule: 'owner = @request.auth.id',
  deleteRule: null,
};

const ALICE = { email: 'alice@example.com', password: 'alicepass123', name: 'Alice' };
const BOB = { email: 'bob@example.com', password: 'bobpass12345', name: 'Bob' };

// shared state
let usersCollection; // the built-in `users` collection
const users = {}; // name -> { record, pb }
const notes = {}; // text -> record (created by Alice)

// ---------------------------------------------------------------------------------------------

it('a. superuser auth with password', async () => {
  const pb = client();
  const res = await pb.collection('_superusers').authWithPassword(SUPERUSER.email, SUPERUSER.password);
  assert.equal(typeof res.token, 'string');
  assert.ok(res.token.length > 20);
  assert.equal(res.record.email, SUPERUSER.email);
  assert.equal(res.record.collectionName, '_superusers');
  assert.equal(pb.authStore.isValid, true);
  assert.equal(pb.authStore.isSuperuser, true);
  assert.equal(pb.authStore.token, res.token);
  assert.equal(pb.authStore.record.id, res.record.id);

  await rejects(
    () => client().collection('_superusers').authWithPassword(SUPERUSER.email, 'wrong-password'),
    400,
    'Failed to authenticate.',
  );
});

it('b. collections: create, read, list, update, delete', async () => {
  const pb = await superuser();
  usersCollection = await pb.collections.getOne('users');
  assert.equal(usersCollection.name, 'users');
  assert.equal(usersCollection.type, 'auth');

  const created = await pb.collections.create({
    name: 'notes',
    type: 'base',
    ...RULES,
    fields: [
      { name: 'text', type: 'text', required: true, max: 100 },
      { name: 'n', type: 'number' },
      { name: 'done', type: 'bool' },
      { name: 'tags', type: 'select', values: ['a', 'b', 'c'], maxSelect: 3 },
      { name: 'owner', type: 'relation', collectionId: usersCollection.id, maxSelect: 1 },
      { name: 'created', type: 'autodate', onCreate: true },
      { name: 'updated', type: 'autodate', onCreate: true, onUpdate: true },
    ],
  });
  assert.equal(created.name, 'notes');
  assert.equal(created.type, 'base');
  assert.match(created.id, /^\w+$/);

  const col = await pb.collections.getOne('notes');
  assert.equal(col.id, created.id);
  for (const [k, v] of Object.entries(RULES)) assert.equal(col[k], v, k);
  assert.deepEqual(
    col.fields.map((f) => f.name),
    ['id', 'text', 'n', 'done', 'tags', 'owner', 'created', 'updated'],
  );
  for (const f of col.fields) {
    assert.equal(typeof f.id, 'string', `field ${f.name} has an id`);
    assert.ok(f.id.length > 0, `field ${f.name} has an id`);
  }
  const field = (name) => col.fields.find((f) => f.name === name);
  assert.equal(field('id').primaryKey, true);
  assert.equal(field('id').system, true);
  assert.equal(field('text').type, 'text');
  assert.equal(field('text').required, true);
  assert.equal(field('text').max, 100);
  assert.equal(field('n').type, 'number');
  assert.equal(field('done').type, 'bool');
  assert.equal(field('tags').type, 'select');
  assert.deepEqual(field('tags').values, ['a', 'b', 'c']);
  assert.equal(field('tags').maxSelect, 3);
  assert.equal(field('owner').type, 'relation');
  assert.equal(field('owner').collectionId, usersCollection.id);
  assert.equal(field('owner').maxSelect, 1);
  assert.equal(field('created').type, 'autodate');
  assert.equal(field('created').onCreate, true);
  assert.equal(field('created').onUpdate, false);
  assert.equal(field('updated').onUpdate, true);

  const list = await pb.collections.getList(1, 200);
  const names = list.items.map((c) => c.name);
  for (const n of ['users', '_superusers', 'notes']) assert.ok(names.includes(n), `collections list has ${n}`);
  assert.equal(list.totalItems, list.items.length);

  // update: add a field (the whole field list is sent; existing fields keep their ids)
  const updated = await pb.collections.update('notes', {
    fields: [...col.fields, { name: 'extra', type: 'text' }],
  });
  assert.deepEqual(
    updated.fields.map((f) => f.name),
    ['id', 'text', 'n', 'done', 'tags', 'owner', 'created', 'updated', 'extra'],
  );
  assert.equal(updated.fields.find((f) => f.name === 'text').id, field('text').id);
  assert.ok(updated.fields.find((f) => f.name === 'extra').id);
  assert.equal(updated.listRule, RULES.listRule);

  // delete a throwaway collection
  await pb.collections.create({ name: 'throwaway', type: 'base', fields: [{ name: 'x', type: 'text' }] });
  assert.equal(await pb.collections.delete('throwaway'), true);
  await rejects(() => pb.collections.getOne('throwaway'), 404);
});

it('c. users: sign up, auth with password, wrong password, auth refresh', async () => {
  for (const [key, u] of [['alice', ALICE], ['bob', BOB]]) {
    const guest = client();
    const rec = await guest.collection('users').create({ ...u, passwordConfirm: u.password });
    assert.equal(rec.collectionName, 'users');
    assert.equal(rec.collectionId, usersCollection.id);
    assert.equal(rec.name, u.name);
    assert.equal(rec.verified, false);
    assert.equal(rec.emailVisibility, false);
    assert.equal(rec.password, undefined);
    assert.equal(rec.passwordConfirm, undefined);
    assert.equal(rec.tokenKey, undefined);

    const pb = client();
    const auth = await pb.collection('users').authWithPassword(u.email, u.password);
    assert.equal(auth.record.id, rec.id);
    assert.equal(auth.record.email, u.email); // own record: email visible
    assert.equal(pb.authStore.isValid, true);
    assert.equal(pb.authStore.isSuperuser, false);
    assert.equal(pb.authStore.record.id, rec.id);
    users[key] = { record: auth.record, pb };
  }

  await rejects(
    () => client().collection('users').authWithPassword(ALICE.email, 'wrong-password'),
    400,
    'Failed to authenticate.',
  );
  await rejects(
    () => client().collection('users').authWithPassword('nobody@example.com', 'whatever123'),
    400,
    'Failed to authenticate.',
  );

  // tokens carry a seconds-resolution expiry; wait so the refreshed token must differ
  const { pb } = users.alice;
  const oldToken = pb.authStore.token;
  await sleep(1100);
  const refreshed = await pb.collection('users').authRefresh();
  assert.equal(typeof refreshed.token, 'string');
  assert.notEqual(refreshed.token, oldToken);
  assert.equal(refreshed.record.id, users.alice.record.id);
  assert.equal(refreshed.record.email, ALICE.email);
  assert.equal(pb.authStore.token, refreshed.token);
  assert.equal(pb.authStore.isValid, true);

  await rejects(() => client().collection('users').authRefresh(), 401);
});

it('d. records as a user: create, list, filter, sort, paginate, expand, fields, skipTotal', async () => {
  const { pb, record: alice } = users.alice;
  const seed = [
    { text: 'apple one', n: 10, tags: ['a'] },
    { text: 'apple two', n: 20, tags: ['a', 'b'], done: true },
    { text: 'banana', n: 30 },
    { text: 'apple big', n: 150, tags: ['c'] },
    { text: 'apple two again', n: 20 },
  ];
  for (const s of seed) {
    const r = await pb.collection('notes').create({ ...s, owner: alice.id });
    assert.match(r.id, /^[a-z0-9]{15}$/);
    assert.equal(r.collectionName, 'notes');
    assert.equal(r.text, s.text);
    assert.equal(r.n, s.n);
    assert.equal(r.done, s.done ?? false);
    assert.deepEqual(r.tags, s.tags ?? []);
    assert.equal(r.owner, alice.id);
    assert.equal(r.extra, '');
    assert.match(r.created, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}Z$/);
    // PocketBase stamps created and updated separately: they can differ by a millisecond
    assert.match(r.updated, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.ok(r.updated >= r.created);
    notes[s.text] = r;
    await sleep(5); // `created` has millisecond resolution: keep the sort `-n,created` deterministic
  }

  // filter with bound params, multi-key sort, pagination
  const filter = pb.filter('n >= {:min} && text ~ {:q}', { min: 15, q: 'apple' });
  const page1 = await pb.collection('notes').getList(1, 2, { filter, sort: '-n,created' });
  assert.equal(page1.page, 1);
  assert.equal(page1.perPage, 2);
  assert.equal(page1.totalItems, 3);
  assert.equal(page1.totalPages, 2);
  assert.deepEqual(page1.items.map((r) => r.text), ['apple big', 'apple two']);
  const page2 = await pb.collection('notes').getList(2, 2, { filter, sort: '-n,created' });
  assert.equal(page2.page, 2);
  assert.equal(page2.totalItems, 3);
  assert.deepEqual(page2.items.map((r) => r.text), ['apple two again']);

  const full = await pb.collection('notes').getFullList({ sort: 'n,created' });
  assert.deepEqual(full.map((r) => r.n), [10, 20, 20, 30, 150]);
  assert.deepEqual(full.map((r) => r.text), ['apple one', 'apple two', 'apple two again', 'banana', 'apple big']);

  const first = await pb.collection('notes').getFirstListItem(pb.filter('text = {:t}', { t: 'banana' }));
  assert.equal(first.id, notes.banana.id);
  assert.equal(first.n, 30);
  await rejects(() => pb.collection('notes').getFirstListItem('text = "no such note"'), 404);

  // expand a relation (own user record: email visible)
  const one = await pb.collection('notes').getOne(notes['apple one'].id, { expand: 'owner' });
  assert.equal(one.owner, alice.id);
  assert.equal(one.expand.owner.id, alice.id);
  assert.equal(one.expand.owner.collectionName, 'users');
  assert.equal(one.expand.owner.email, ALICE.email);
  assert.equal(one.expand.owner.password, undefined);

  // fields projection
  const proj = await pb.collection('notes').getOne(notes['apple one'].id, { fields: 'id,text' });
  assert.deepEqual(proj, { id: notes['apple one'].id, text: 'apple one' });
  const projList = await pb.collection('notes').getList(1, 10, { fields: 'id,n', sort: 'n' });
  for (const r of projList.items) assert.deepEqual(Object.keys(r).sort(), ['id', 'n']);

  // skipTotal
  const skipped = await pb.collection('notes').getList(1, 2, { skipTotal: true, sort: 'n' });
  assert.equal(skipped.totalItems, -1);
  assert.equal(skipped.totalPages, -1);
  assert.equal(skipped.items.length, 2);
});

it('e. API rules: list/view filtering, update 404, null delete rule 403, guest create 400', async () => {
  const { pb: bob } = users.bob;
  const { pb: alice } = users.alice;

  // Bob only sees Alice's notes with n > 100
  const list = await bob.collection('notes').getList(1, 50);
  assert.deepEqual(list.items.map((r) => r.text), ['apple big']);
  assert.equal(list.totalItems, 1);
  await rejects(() => bob.collection('notes').getOne(notes['apple one'].id), 404, "The requested resource wasn't found.");
  const big = await bob.collection('notes').getOne(notes['apple big'].id, { expand: 'owner' });
  assert.equal(big.id, notes['apple big'].id);
  // users.viewRule is `id = @request.auth.id`: Bob may not expand Alice
  assert.equal(big.expand?.owner, undefined);

  // a guest sees only the public ones too
  const guestList = await client().collection('notes').getFullList();
  assert.deepEqual(guestList.map((r) => r.text), ['apple big']);

  // updateRule fails -> 404, whether or not Bob can view the record
  await rejects(
    () => bob.collection('notes').update(notes['apple one'].id, { text: 'hacked' }),
    404,
    "The requested resource wasn't found.",
  );
  await rejects(
    () => bob.collection('notes').update(notes['apple big'].id, { text: 'hacked' }),
    404,
    "The requested resource wasn't found.",
  );

  // deleteRule null -> superusers only
  await rejects(
    () => alice.collection('notes').delete(notes['apple one'].id),
    403,
    'Only superusers can perform this action.',
  );

  // createRule fails for guests
  await rejects(
    () => client().collection('notes').create({ text: 'anon', n: 1 }),
    400,
    'Failed to create record.',
  );

  // nothing changed
  const again = await alice.collection('notes').getOne(notes['apple one'].id);
  assert.equal(again.text, 'apple one');
  assert.equal((await alice.collection('notes').getFullList()).length, 5);
});

it('f. validation errors, bad filter, unknown collection', async () => {
  const { pb, record: alice } = users.alice;

  const e1 = await rejects(() => pb.collection('notes').create({ n: 1, owner: alice.id }), 400, 'Failed to create record.');
  assert.equal(e1.response.data.text.code, 'validation_required');
  assert.equal(e1.response.data.text.message, 'Cannot be blank.');

  const e2 = await rejects(
    () => pb.collection('notes').create({ text: 'x'.repeat(101), tags: ['a', 'zzz'], owner: alice.id }),
    400,
    'Failed to create record.',
  );
  assert.equal(e2.response.data.text.code, 'validation_max_text_constraint');
  assert.equal(e2.response.data.tags.code, 'validation_invalid_value');

  await rejects(
    () => pb.collection('notes').getList(1, 10, { filter: 'nosuchfield = 1' }),
    400,
    'Something went wrong while processing your request.',
  );
  await rejects(() => pb.collection('notes').getList(1, 10, { filter: 'n >=' }), 400);

  const e3 = await rejects(() => pb.collection('nope').getList(1, 10), 404, 'Missing collection context.');
  assert.deepEqual(e3.response.data, {});
  // collections API: superusers only
  await rejects(() => client().collections.getOne('notes'), 401);
  await rejects(() => pb.collections.getOne('notes'), 403, 'The authorized record is not allowed to perform this action.');
  const su = await superuser();
  await rejects(() => su.collections.getOne('nope'), 404);
});

it('g. superuser update, field modifier n+, delete', async () => {
  const pb = await superuser();
  const id = notes['apple one'].id;

  const upd = await pb.collection('notes').update(id, { text: 'apple one (edited)', done: true });
  assert.equal(upd.text, 'apple one (edited)');
  assert.equal(upd.done, true);
  assert.equal(upd.n, 10);
  assert.equal(upd.created, notes['apple one'].created);
  assert.ok(upd.updated >= upd.created);

  const inc = await pb.collection('notes').update(id, { 'n+': 5 });
  assert.equal(inc.n, 15);
  const dec = await pb.collection('notes').update(id, { 'n-': 3, 'tags+': 'c' });
  assert.equal(dec.n, 12);
  assert.deepEqual(dec.tags, ['a', 'c']);
  assert.equal((await pb.collection('notes').getOne(id)).n, 12);

  assert.equal(await pb.collection('notes').delete(id), true);
  await rejects(() => pb.collection('notes').getOne(id), 404);
  await rejects(() => pb.collection('notes').delete(id), 404);
  assert.equal((await pb.collection('notes').getFullList()).length, 4);
});

it('h. health check', async () => {
  const res = await client().health.check();
  assert.equal(res.code, 200);
  assert.equal(res.message, 'API is healthy.');
});

/** Waits until `pred()` holds (polling), or fails after `ms`. */
async function waitFor(pred, ms = 5000) {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error('timed out waiting for realtime events');
    await new Promise((r) => setTimeout(r, 25));
  }
}

it('i. realtime: subscribe, rules per subscriber, record topics, unsubscribe', async () => {
  const su = await superuser();
  const owner = Object.values(users)[0];
  const other = Object.values(users)[1];
  const mine = [];
  const theirs = [];
  const single = [];
  const unsubMine = await owner.pb.collection('notes').subscribe('*', (e) => mine.push(e));
  const unsubTheirs = await other.pb.collection('notes').subscribe('*', (e) => theirs.push(e));

  // listRule: `owner = @request.auth.id || n > 100` — the other user sees only n > 100.
  const quiet = await su.collection('notes').create({ text: 'rt quiet', n: 1, owner: owner.record.id });
  const loud = await su.collection('notes').create({ text: 'rt loud', n: 500, owner: owner.record.id });
  await waitFor(() => mine.length >= 2 && theirs.length >= 1);
  assert.deepEqual(mine.map((e) => [e.action, e.record.id]), [['create', quiet.id], ['create', loud.id]]);
  assert.deepEqual(theirs.map((e) => [e.action, e.record.text]), [['create', 'rt loud']]);

  const unsubOne = await owner.pb.collection('notes').subscribe(quiet.id, (e) => single.push(e), { fields: 'id,n' });
  await su.collection('notes').update(quiet.id, { n: 2 });
  await waitFor(() => single.length >= 1);
  assert.deepEqual(single[0], { action: 'update', record: { id: quiet.id, n: 2 } });

  await waitFor(() => mine.length >= 3); // the update reached the collection subscription too
  await unsubMine();
  await unsubOne();
  const seen = mine.length;
  await su.collection('notes').delete(loud.id);
  await waitFor(() => theirs.length >= 2);
  assert.equal(theirs[1].action, 'delete');
  assert.equal(theirs[1].record.id, loud.id);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(mine.length, seen, 'no events after unsubscribe');
  await unsubTheirs();
  owner.pb.realtime.unsubscribe();
  other.pb.realtime.unsubscribe();
});

it('j. pb.filter() parameters: quotes, braces, backslashes and dates match as written', async () => {
  const pb = await superuser();
  await pb.collections.create({
    name: 'quoted',
    type: 'base',
    fields: [
      { name: 'title', type: 'text' },
      { name: 'created', type: 'autodate', onCreate: true },
    ],
  });
  const odd = 'say "hi" {:x} \\ it\'s 50% \\"done\\"\\';
  const before = new Date(Date.now() - 60_000);
  const rec = await pb.collection('quoted').create({ title: odd });
  await pb.collection('quoted').create({ title: 'plain' });
  const byTitle = await pb.collection('quoted').getFullList({ filter: pb.filter('title = {:t}', { t: odd }) });
  assert.deepEqual(byTitle.map((r) => r.id), [rec.id]);
  const contains = await pb.collection('quoted').getFullList({ filter: pb.filter('title ~ {:t}', { t: '\\ it\'s' }) });
  assert.deepEqual(contains.map((r) => r.id), [rec.id]);
  const since = await pb.collection('quoted').getFullList({ filter: pb.filter('created >= {:d}', { d: before }) });
  assert.equal(since.length, 2);
  const later = await pb.collection('quoted').getFullList({
    filter: pb.filter('created >= {:d}', { d: new Date(Date.now() + 60_000) }),
  });
  assert.equal(later.length, 0);
});
