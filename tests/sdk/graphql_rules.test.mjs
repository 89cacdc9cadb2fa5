// The records API's access rules through GraphQL, beside the REST API, over a matrix of rules and
// callers: a guest, two users, a user of a second auth collection (`staff`) and a superuser. The REST
// side is the PocketBase SDK, the GraphQL side graphql-request, and each comparison sends both the
// same request (token, headers, query parameters; the mutation's `data` as the body):
//
// - lists: the same ids in the same order and the same totals, with client filters, sorts and pages;
// - one record: REST 404 ⇔ GraphQL null; a superuser-only rule is REST's 403 and a field the
//   caller's GraphQL schema does not have;
// - creates, updates and deletes: REST's status (and field errors) ⇔ the GraphQL error's
//   `extensions`; each side writes its own copy of the target, and the superuser SDK then checks
//   that both copies changed alike (or not at all);
// - nested records: the relations and back-relations under GraphQL's `expand` hold the records (and
//   fields) REST's `expand` holds, and none that the caller may not view.
//
// The rules use @request.auth.* (id, collectionName, verified), @request.body.* (:isset, :length,
// :lower, :each, ?=), @request.query.*, @request.headers.*, @request.method, @request.context,
// @collection joins, relation traversal (also of the new record's relations in create rules),
// back-relations (`memberships_via_team`, `comments_via_post`), multi-value `?=`, `:each`, `~`, `!~`
// and @now. A disagreement does not stop the matrix: each test lists all it found.
import { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { ClientResponseError } from 'pocketbase';
import { GraphQLClient, ClientError } from 'graphql-request';
import { startServer } from './server.mjs';
import { newClient, newSuperuser, stopServer, suite } from './helpers.mjs';

const { it, failed } = suite(60_000);

const PASSWORD = 'Passw0rd!2345';
const CALLERS = ['guest', 'ann', 'bob', 'carl', 'su'];
const DAY = 24 * 3600 * 1000;
const date = (ms) => new Date(ms).toISOString().replace('T', ' ');

/** `posts` → `Posts`: the base of a collection's GraphQL names. */
const base = (name) => name[0].toUpperCase() + name.slice(1);

/**
 * The collections under test, created in this order (a rule naming a collection created later is
 * set once that exists: `later`). `fields`: what the comparisons read of a record; `expand`: the
 * relation paths compared through REST `expand` and GraphQL `expand`.
 */
const RULES = {
  users: {
    listRule: 'id = @request.auth.id || @request.auth.collectionName = "staff"',
    viewRule: '@request.auth.id != ""',
    updateRule: 'id = @request.auth.id',
    fields: ['name', 'email'],
    expand: ['posts_via_author.project', 'memberships_via_user.team'],
  },
  staff: {
    listRule: '@request.auth.collectionName = "staff"',
    viewRule: '@request.auth.id != ""',
    createRule: null,
    updateRule: null,
    deleteRule: null,
    fields: ['name'],
    expand: ['comments_via_reviewer.post'],
  },
  teams: {
    listRule: null,
    viewRule: null,
    createRule: '@request.auth.collectionName = "users" && @request.body.owner = @request.auth.id',
    updateRule: 'owner = @request.auth.id',
    deleteRule: null,
    later: {
      // the same membership, once through a back-relation and once through a join
      listRule: '@request.auth.id != "" && (owner = @request.auth.id || memberships_via_team.user ?= @request.auth.id)',
      viewRule: '@request.auth.id != "" && (owner = @request.auth.id || (@collection.memberships.user ?= @request.auth.id && @collection.memberships.team ?= id))',
    },
    fields: ['name', 'owner'],
    expand: ['owner', 'memberships_via_team.user', 'projects_via_team.posts_via_project'],
  },
  memberships: {
    listRule: 'user = @request.auth.id || team.owner = @request.auth.id',
    viewRule: 'user = @request.auth.id || team.owner = @request.auth.id',
    createRule: 'team.owner = @request.auth.id && (@request.body.role:isset = false || @request.body.role = "member")',
    updateRule: null,
    deleteRule: 'team.owner = @request.auth.id || user = @request.auth.id',
    fields: ['user', 'team', 'role'],
    expand: ['user', 'team.owner'],
  },
  projects: {
    // `members.id ?=`: PocketBase 0.40.6 (and Kiln alike) never matches `members ?= @request.auth.id`
    listRule: 'public = true || members.id ?= @request.auth.id',
    viewRule: 'public = true || members.id ?= @request.auth.id || team.owner = @request.auth.id',
    createRule: '@request.auth.id != "" && @request.body.members ?= @request.auth.id && @request.body.members:length <= 2'
      + ' && (team.owner = @request.auth.id || (@collection.memberships.user ?= @request.auth.id && @collection.memberships.team ?= @request.body.team))',
    updateRule: 'members.id ?= @request.auth.id && @request.body.public:isset = false',
    deleteRule: 'team.owner = @request.auth.id',
    fields: ['title', 'team', 'members', 'public'],
    expand: ['members', 'team.memberships_via_team', 'posts_via_project.comments_via_post'],
  },
  posts: {
    listRule: '(status = "published" && tags:each != "internal") || author = @request.auth.id',
    viewRule: 'status = "published" || author = @request.auth.id || project.members.id ?= @request.auth.id',
    createRule: '@request.auth.collectionName = "users" && @request.body.author = @request.auth.id && (@request.body.status:isset = false || @request.body.status = "draft") && @request.body.tags:each != "internal"',
    updateRule: 'author = @request.auth.id && (@request.body.author:isset = false || @request.body.author = @request.auth.id)'
      + ' && (@request.body.title:isset = false || @request.body.title:lower !~ "spam") && (@request.body.n:isset = false || @request.body.n < 10)',
    deleteRule: null,
    // no comments (PocketBase 0.40.6 refuses `comments_via_post:length` in a rule)
    later: { deleteRule: 'author = @request.auth.id && comments_via_post.id = ""' },
    fields: ['title', 'project', 'author', 'status', 'tags', 'n', 'published'],
    expand: ['author', 'project.members', 'project.team', 'comments_via_post.author', 'comments_via_post.reviewer'],
  },
  comments: {
    listRule: 'post.status = "published" || post.author = @request.auth.id || author = @request.auth.id',
    viewRule: 'post.status = "published" || post.author = @request.auth.id || author = @request.auth.id || post.project.members.id ?= @request.auth.id',
    createRule: '@request.auth.id != "" && @request.body.text:lower !~ "spam" && post.status = "published"',
    updateRule: 'author = @request.auth.id && @request.body.post:isset = false',
    deleteRule: 'author = @request.auth.id || post.author = @request.auth.id || @request.auth.collectionName = "staff"',
    fields: ['text', 'post', 'author', 'reviewer'],
    expand: ['post.author', 'post.project.team.owner', 'author', 'reviewer'],
  },
  vault: {
    listRule: null, viewRule: null, createRule: null, updateRule: null, deleteRule: null,
    fields: ['code'],
    expand: [],
  },
  notes: {
    listRule: '@request.headers.x_note_key = "open" || owner = @request.auth.id',
    viewRule: '@request.query.key = "sesame" || owner = @request.auth.id',
    createRule: '@request.auth.collectionName = "staff"',
    updateRule: null,
    deleteRule: null,
    fields: ['text', 'owner', 'secretRef'],
    expand: ['owner'],
  },
  events: {
    listRule: 'start <= @now',
    viewRule: '(start <= @now || @request.auth.verified = true) && @request.context = "default"',
    createRule: '@request.auth.id != "" && @request.body.start > @now',
    updateRule: null,
    deleteRule: '@request.auth.collectionName = "staff"',
    fields: ['title', 'start'],
    expand: [],
  },
  pings: {
    // REST reads with GET, creates with POST, updates with PATCH, deletes with DELETE; GraphQL's
    // list "runs the list rule exactly like GET /api/collections/posts/records"
    listRule: '@request.method = "GET"',
    viewRule: '@request.method = "GET" && @request.auth.id != ""',
    createRule: '@request.method = "POST"',
    updateRule: '@request.method = "PATCH"',
    deleteRule: '@request.method = "DELETE"',
    fields: ['label'],
    expand: [],
  },
};
const COLLECTIONS = Object.keys(RULES);

/** Collection → relation field → the collection it points at (filled once the collections exist). */
const TARGET = {};
const targetOf = (coll, seg) => (seg.includes('_via_') ? seg.split('_via_')[0] : TARGET[coll][seg]);

/**
 * Relation paths from `coll` as a tree of collections: ('posts', ['project.team', 'author']) →
 * { coll: 'posts', kids: { project: { coll: 'projects', kids: { team: … } }, author: … } }.
 */
function treeOf(coll, paths) {
  const root = { coll, kids: {} };
  for (const p of paths) {
    let node = root;
    for (const seg of p.split('.')) node = node.kids[seg] ??= { coll: targetOf(node.coll, seg), kids: {} };
  }
  return root;
}

/** The GraphQL selection of a record of `node` (its compared fields) and its relations under `expand`. */
function selection(node) {
  const keys = Object.keys(node.kids);
  const nested = keys.length ? ` expand { ${keys.map((k) => `${k} { ${selection(node.kids[k])} }`).join(' ')} }` : '';
  return `id collectionName ${RULES[node.coll].fields.join(' ')}${nested}`;
}

const asList = (v) => (v == null ? [] : Array.isArray(v) ? v : [v]);

/** A record and its expanded relations along `node`, as comparable data (relations sorted by id). */
function shape(rec, node) {
  const expand = {};
  for (const [k, sub] of Object.entries(node.kids)) {
    expand[k] = asList(rec.expand?.[k]).map((r) => shape(r, sub)).sort((a, b) => a.id.localeCompare(b.id));
  }
  return { ...pick(rec, RULES[node.coll].fields), expand };
}

/** The fields `fields` of a record (absent ones as null). */
const pick = (rec, fields) => Object.fromEntries(['id', 'collectionName', ...fields].map((f) => [f, rec[f] ?? null]));

/** A record without what differs between two copies of it. */
const strip = ({ id, created, updated, collectionId, expand, ...rest }) => rest;

describe('GraphQL and REST under the same rules', () => {
  let server;
  let su;
  const users = {}; // name → { id, token, client }
  const ids = {}; // fixture name → id
  const all = {}; // collection → ids of all its records (at read time)
  const viewable = {}; // caller → collection → Set of ids REST lets it view
  const tally = { list: 0, view: { ok: 0, null: 0, unknown: 0 }, write: { ok: 0, refused: 0, unknown: 0 } };
  const disagreements = [];

  const token = (who) => (who === 'su' ? su.authStore.token : users[who]?.token);
  const rest = (who) => (who === 'su' ? su : who === 'guest' ? newClient(server.url) : users[who].client);
  const isNull = (coll, op, who) => who !== 'su' && RULES[coll][`${op}Rule`] === null;

  /** A GraphQL request as `who`; { ok, data } or { ok: false, errors }. */
  async function gql(who, document, variables = {}, { query, headers } = {}) {
    const qs = query ? `?${new URLSearchParams(query)}` : '';
    const client = new GraphQLClient(`${server.url}/api/graphql${qs}`, {
      headers: { ...(token(who) ? { Authorization: token(who) } : {}), ...headers },
    });
    try {
      return { ok: true, data: await client.request(document, variables) };
    } catch (e) {
      assert.ok(e instanceof ClientError, `unexpected error: ${e?.stack ?? e}`);
      assert.ok(e.response.errors?.length, `a GraphQL failure without errors: ${JSON.stringify(e.response)}`);
      return { ok: false, errors: e.response.errors };
    }
  }

  /** A REST call; { ok, value } or { ok: false, status, data }. */
  async function restCall(fn) {
    try {
      return { ok: true, value: await fn() };
    } catch (e) {
      assert.ok(e instanceof ClientResponseError, `unexpected error: ${e?.stack ?? e}`);
      assert.ok(e.status > 0, `no HTTP answer: ${e}`);
      return { ok: false, status: e.status, data: e.response?.data ?? {}, message: e.response?.message };
    }
  }

  /** Asserts the GraphQL failure is a validation error naming the unknown `field`. */
  function assertUnknown(g, field, label) {
    assert.ok(!g.ok, `${label}: GraphQL answered ${JSON.stringify(g.data)}, expected an unknown field ${field}`);
    assert.ok(
      g.errors.some((e) => /unknown field/i.test(e.message) && e.message.includes(`"${field}"`)),
      `${label}: expected an unknown-field error for ${field}, got ${JSON.stringify(g.errors)}`,
    );
  }

  /**
   * Whether REST and GraphQL agree; a disagreement is noted and the matrix goes on, so that one run
   * reports them all (`noDisagreement` then fails the test).
   */
  function agree(cond, what) {
    if (!cond) disagreements.push(what);
    return cond;
  }
  function noDisagreement(from) {
    const found = disagreements.slice(from);
    assert.equal(found.length, 0, `GraphQL and REST disagree in ${found.length} case(s):\n${found.join('\n')}`);
  }

  before(async () => {
    server = await startServer();
    su = await newSuperuser(server.url);
    const ref = {}; // collection → id
    const usersC = await su.collections.update('users', {
      listRule: RULES.users.listRule, viewRule: RULES.users.viewRule, updateRule: RULES.users.updateRule,
    });
    ref.users = usersC.id;
    for (const k of ['createRule', 'deleteRule']) RULES.users[k] = usersC[k];
    const rel = (name, target, maxSelect = 1, extra = {}) => ({ name, type: 'relation', collectionId: ref[target], maxSelect, ...extra });
    // fields as functions: a relation names a collection made before it in this loop
    const defs = {
      staff: { type: 'auth', fields: () => [{ name: 'name', type: 'text' }] },
      teams: { fields: () => [{ name: 'name', type: 'text' }, rel('owner', 'users')] },
      memberships: { fields: () => [rel('user', 'users'), rel('team', 'teams'), { name: 'role', type: 'select', values: ['member', 'admin'], maxSelect: 1 }] },
      projects: { fields: () => [{ name: 'title', type: 'text' }, rel('team', 'teams'), rel('members', 'users', 5), { name: 'public', type: 'bool' }] },
      posts: {
        fields: () => [
          { name: 'title', type: 'text', required: true }, rel('project', 'projects'), rel('author', 'users'),
          { name: 'status', type: 'select', values: ['draft', 'published'], maxSelect: 1 },
          { name: 'tags', type: 'select', values: ['news', 'tech', 'internal'], maxSelect: 3 },
          { name: 'n', type: 'number' }, { name: 'published', type: 'date' }, rel('editor', 'users', 1, { hidden: true }),
        ],
      },
      comments: { fields: () => [{ name: 'text', type: 'text' }, rel('post', 'posts'), rel('author', 'users'), rel('reviewer', 'staff')] },
      vault: { fields: () => [{ name: 'code', type: 'text' }] },
      notes: { fields: () => [{ name: 'text', type: 'text' }, rel('owner', 'users'), rel('secretRef', 'vault')] },
      events: { fields: () => [{ name: 'title', type: 'text' }, { name: 'start', type: 'date' }] },
      pings: { fields: () => [{ name: 'label', type: 'text' }] },
    };
    for (const [name, def] of Object.entries(defs)) {
      const r = RULES[name];
      const c = await su.collections.create({
        name, type: def.type ?? 'base', fields: def.fields(),
        listRule: r.listRule, viewRule: r.viewRule, createRule: r.createRule, updateRule: r.updateRule, deleteRule: r.deleteRule,
      }).catch((e) => { throw new Error(`creating ${name}: ${JSON.stringify(e.response)}`); });
      ref[name] = c.id;
    }
    for (const c of await su.collections.getFullList()) {
      const name = Object.keys(ref).find((n) => ref[n] === c.id);
      if (!name) continue;
      TARGET[name] = Object.fromEntries(c.fields.filter((f) => f.type === 'relation').map((f) => [f.name, Object.keys(ref).find((n) => ref[n] === f.collectionId)]));
    }
    for (const [name, r] of Object.entries(RULES)) {
      if (!r.later) continue;
      await su.collections.update(name, r.later);
      Object.assign(r, r.later);
    }

    // callers: ann (verified) and bob of `users`, carl of `staff`; cy is a user nobody signs in as
    for (const [name, coll, verified] of [['ann', 'users', true], ['bob', 'users', false], ['carl', 'staff', false], ['cy', 'users', false]]) {
      const email = `${name}@example.com`;
      const rec = await su.collection(coll).create({ email, password: PASSWORD, passwordConfirm: PASSWORD, name, verified, emailVisibility: name === 'bob' });
      const client = newClient(server.url);
      const auth = await client.collection(coll).authWithPassword(email, PASSWORD);
      users[name] = { id: rec.id, token: auth.token, client };
    }
    const u = (n) => users[n].id;
    const mk = async (coll, key, data) => { ids[key] = (await su.collection(coll).create(data)).id; };
    await mk('teams', 'T1', { name: 'alpha', owner: u('ann') });
    await mk('teams', 'T2', { name: 'beta', owner: u('bob') });
    await mk('teams', 'T3', { name: 'gamma', owner: u('cy') });
    await mk('memberships', 'M1', { user: u('bob'), team: ids.T1, role: 'member' });
    await mk('memberships', 'M2', { user: u('ann'), team: ids.T2, role: 'admin' });
    await mk('memberships', 'M3', { user: u('cy'), team: ids.T1, role: 'member' });
    await mk('projects', 'P1', { title: 'apollo', team: ids.T1, members: [u('ann')], public: false });
    await mk('projects', 'P2', { title: 'borealis', team: ids.T1, members: [u('ann'), u('bob')], public: true });
    await mk('projects', 'P3', { title: 'cassini', team: ids.T2, members: [u('bob')], public: false });
    await mk('projects', 'P4', { title: 'daedalus', team: ids.T3, members: [u('cy')], public: false });
    const now = Date.now();
    const posts = [
      ['p1', 'ann', 'P1', 'published', ['news']],
      ['p2', 'ann', 'P1', 'draft', ['tech']],
      ['p3', 'bob', 'P2', 'published', ['news', 'internal']],
      ['p4', 'bob', 'P3', 'draft', []],
      ['p5', 'bob', 'P2', 'published', []],
      ['p6', 'ann', 'P3', 'draft', ['internal']],
      ['p7', 'cy', 'P4', 'draft', ['tech']],
      ['p8', 'cy', 'P4', 'published', ['tech', 'news']],
    ];
    for (const [i, [key, author, project, status, tags]] of posts.entries()) {
      await mk('posts', key, { title: `${key} ${author} ${status} about ${tags.join('+') || 'nothing'}`, author: u(author), project: ids[project], status, tags, n: (i * 7) % 5, published: date(now - i * DAY), editor: u(i % 2 ? 'bob' : 'cy') });
    }
    await mk('comments', 'c1', { text: 'first', post: ids.p1, author: u('bob') });
    await mk('comments', 'c2', { text: 'on a draft', post: ids.p2, author: u('bob'), reviewer: u('carl') });
    await mk('comments', 'c3', { text: 'internal', post: ids.p3, author: u('ann') });
    await mk('comments', 'c4', { text: 'hidden draft', post: ids.p4, author: u('ann') });
    await mk('comments', 'c5', { text: 'reviewed', post: ids.p5, author: u('bob'), reviewer: u('carl') });
    await mk('comments', 'c6', { text: 'by cy', post: ids.p7, author: u('cy') });
    await mk('comments', 'c7', { text: 'second', post: ids.p1, author: u('cy'), reviewer: u('carl') });
    await mk('vault', 'v1', { code: 'xyzzy' });
    await mk('notes', 'n1', { text: 'ann note', owner: u('ann'), secretRef: ids.v1 });
    await mk('notes', 'n2', { text: 'bob note', owner: u('bob') });
    await mk('events', 'e1', { title: 'past', start: date(now - DAY) });
    await mk('events', 'e2', { title: 'future', start: date(now + 30 * DAY) });
    await mk('pings', 'g1', { label: 'one' });
    await mk('pings', 'g2', { label: 'two' });
    for (const coll of COLLECTIONS) all[coll] = (await su.collection(coll).getFullList({ sort: 'id' })).map((r) => r.id);
  });

  after(async () => {
    if (disagreements.length) console.error(`GraphQL and REST disagree:\n${disagreements.map((d) => `- ${d}`).join('\n')}`);
    await stopServer(server, failed());
  });

  it('one record: REST 404 ⇔ GraphQL null, REST 403 ⇔ a field the schema lacks; the same fields', async () => {
    const from = disagreements.length;
    for (const who of CALLERS) {
      viewable[who] = {};
      for (const coll of COLLECTIONS) {
        viewable[who][coll] = new Set();
        const { fields } = RULES[coll];
        const doc = `query($id: ID!) { ${coll}ById(id: $id) { ${selection(treeOf(coll, []))} } }`;
        for (const id of [...all[coll], 'nosuchrecord12']) {
          const label = `${who} views ${coll}/${id}`;
          const r = await restCall(() => rest(who).collection(coll).getOne(id));
          const g = await gql(who, doc, { id });
          if (isNull(coll, 'view', who)) {
            assert.equal(r.status, 403, `${label}: REST`);
            assertUnknown(g, `${coll}ById`, label);
            tally.view.unknown += 1;
            continue;
          }
          assert.ok(g.ok, `${label}: ${JSON.stringify(g.errors)}`);
          const got = g.data[`${coll}ById`];
          if (r.ok) {
            viewable[who][coll].add(id);
            if (!agree(got !== null, `${label}: rule ${JSON.stringify(RULES[coll].viewRule)}: REST 200, GraphQL null`)) continue;
            assert.deepEqual(got, pick(r.value, fields), label);
            tally.view.ok += 1;
          } else {
            assert.equal(r.status, 404, `${label}: REST ${JSON.stringify(r)}`);
            if (!agree(got === null, `${label}: rule ${JSON.stringify(RULES[coll].viewRule)}: REST 404, GraphQL ${JSON.stringify(got)}`)) continue;
            tally.view.null += 1;
          }
        }
      }
    }
    noDisagreement(from);
    // the matrix is not trivially uniform
    assert.ok(tally.view.ok > 40 && tally.view.null > 40 && tally.view.unknown >= 8, JSON.stringify(tally.view));
    // spot checks of what the rules mean
    assert.ok(viewable.ann.posts.has(ids.p2) && !viewable.bob.posts.has(ids.p2), 'a draft is its author\'s');
    assert.ok(viewable.bob.posts.has(ids.p6), 'a draft of a project bob is a member of (project.members.id ?=)');
    assert.equal(viewable.guest.users.size, 0);
    assert.deepEqual([...viewable.bob.teams].sort(), [ids.T1, ids.T2].sort(), 'bob owns T2 and is a member of T1 (@collection join)');
    assert.ok(viewable.ann.events.has(ids.e2) && !viewable.bob.events.has(ids.e2), '@request.auth.verified');
    assert.equal(viewable.su.vault.size, 1);
  });

  it('view rules with @request.query: the same query parameters (and headers) to both APIs', async () => {
    const doc = `query($id: ID!) { notesById(id: $id) { id text } }`;
    for (const who of CALLERS) {
      for (const id of [ids.n1, ids.n2]) {
        for (const [query, headers] of [[{ key: 'sesame' }, {}], [{ key: 'wrong' }, {}], [{}, { 'X-Note-Key': 'open' }]]) {
          const label = `${who} views notes/${id} with ${JSON.stringify({ query, headers })}`;
          const r = await restCall(() => rest(who).collection('notes').getOne(id, { query, headers }));
          const g = await gql(who, doc, { id }, { query, headers });
          assert.ok(g.ok, `${label}: ${JSON.stringify(g.errors)}`);
          if (r.ok) assert.equal(g.data.notesById?.id, id, `${label}: REST 200, GraphQL ${JSON.stringify(g.data)}`);
          else assert.equal(g.data.notesById, null, `${label}: REST ${r.status}, GraphQL ${JSON.stringify(g.data)}`);
          if (query.key === 'sesame') assert.ok(r.ok, `${label}: the query parameter opens the view rule`);
        }
      }
    }
  });

  it('lists: the same ids in the same order and the same totals, with filters, sorts and pages', async () => {
    const from = disagreements.length;
    const common = [
      { sort: 'id' },
      { sort: '-created,-id' },
      { filter: 'id != ""', sort: '-id', page: 2, perPage: 2 },
      { filter: 'collectionName = "nothing"', sort: 'id' },
    ];
    const extra = {
      users: [{ filter: 'name ~ "b" || email ~ "example"', sort: '-name' }],
      teams: [{ filter: 'memberships_via_team.role ?= "member"', sort: 'name' }],
      memberships: [{ filter: 'team.owner = @request.auth.id', sort: '-role,id' }],
      projects: [{ filter: 'members ?= @request.auth.id', sort: 'title' }, { filter: 'members.id ?= @request.auth.id', sort: '-title' }, { filter: 'members:length > 1 || team.name = "beta"', sort: '-title' }],
      posts: [
        { filter: 'tags ?= "news"', sort: '-n,id' },
        { filter: 'project.members ?= @request.auth.id || comments_via_post.author ?= @request.auth.id', sort: 'title' },
        { filter: 'title ~ "about" && published <= @now', sort: '-published,n', page: 2, perPage: 3 },
        { filter: 'tags:length = 0 || tags:each = "tech"', sort: 'title' },
        { filter: 'comments_via_post.reviewer.name ?= "carl"', sort: 'id' },
      ],
      comments: [{ filter: 'post.project.team.owner.name ?= "ann" || reviewer != ""', sort: '-text' }, { filter: 'post.tags ?= "internal"', sort: 'id' }],
      notes: [{ filter: 'secretRef != ""', sort: 'id' }],
      events: [{ filter: 'start > "2000-01-01"', sort: '-start' }],
    };
    for (const who of CALLERS) {
      for (const coll of COLLECTIONS) {
        const { fields } = RULES[coll];
        const doc = `query($filter: String, $sort: String, $page: Int, $perPage: Int) {
          ${coll}(filter: $filter, sort: $sort, page: $page, perPage: $perPage) { page perPage totalItems totalPages items { ${selection(treeOf(coll, []))} } } }`;
        for (const args of [{}, ...common, ...(extra[coll] ?? [])]) {
          const label = `${who} lists ${coll} ${JSON.stringify(args)}`;
          const r = await restCall(() => rest(who).collection(coll).getList(args.page ?? 1, args.perPage ?? 30, { filter: args.filter, sort: args.sort }));
          const g = await gql(who, doc, args);
          if (isNull(coll, 'list', who)) {
            assert.equal(r.status, 403, `${label}: REST`);
            assertUnknown(g, coll, label);
            continue;
          }
          if (!r.ok) {
            // a filter REST refuses (400) GraphQL refuses alike
            assert.ok(!g.ok, `${label}: REST ${r.status}, GraphQL ${JSON.stringify(g.data)}`);
            assert.equal(g.errors[0].extensions?.status, r.status, label);
            continue;
          }
          assert.ok(g.ok, `${label}: REST 200, GraphQL ${JSON.stringify(g.errors)}`);
          const got = g.data[coll];
          const want = r.value;
          const summary = (p) => ({ page: p.page, perPage: p.perPage, totalItems: p.totalItems, totalPages: p.totalPages });
          const ordered = args.sort !== undefined;
          const idsOf = (items) => (ordered ? items.map((x) => x.id) : items.map((x) => x.id).sort());
          const same = agree(
            JSON.stringify(summary(got)) === JSON.stringify(summary(want)) && JSON.stringify(idsOf(got.items)) === JSON.stringify(idsOf(want.items)),
            `${label}: rule ${JSON.stringify(RULES[coll].listRule)}: REST ${JSON.stringify({ ...summary(want), ids: idsOf(want.items) })}, GraphQL ${JSON.stringify({ ...summary(got), ids: idsOf(got.items) })}`,
          );
          if (!same) continue;
          const byId = (items) => Object.fromEntries(items.map((x) => [x.id, x]));
          assert.deepEqual(byId(got.items), byId(want.items.map((x) => pick(x, fields))), label);
          tally.list += 1;
        }
      }
    }
    noDisagreement(from);
    assert.ok(tally.list > 150, `${tally.list} lists compared`);
  });

  it('list rules with @request.headers: the same header to both APIs', async () => {
    const doc = `query($sort: String) { notes(sort: $sort) { totalItems items { id } } }`;
    for (const who of CALLERS) {
      for (const headers of [{}, { 'X-Note-Key': 'open' }, { 'X-Note-Key': 'closed' }]) {
        const label = `${who} lists notes with ${JSON.stringify(headers)}`;
        const want = await rest(who).collection('notes').getList(1, 30, { sort: 'id', headers });
        const g = await gql(who, doc, { sort: 'id' }, { headers });
        assert.ok(g.ok, `${label}: ${JSON.stringify(g.errors)}`);
        assert.deepEqual(g.data.notes.items.map((x) => x.id), want.items.map((x) => x.id), label);
        assert.equal(g.data.notes.totalItems, want.totalItems, label);
        if (headers['X-Note-Key'] === 'open') assert.equal(want.totalItems, 2, 'the header opens the list rule');
      }
    }
  });

  it('nested records: GraphQL expand holds what REST expand holds, and nothing the caller may not view', async () => {
    const from = disagreements.length;
    let compared = 0;
    let nestedSeen = 0;
    for (const who of CALLERS) {
      for (const coll of COLLECTIONS) {
        const { expand } = RULES[coll];
        if (!expand.length || isNull(coll, 'list', who)) continue;
        const tree = treeOf(coll, expand);
        const doc = `{ ${coll}(sort: "id", perPage: 100) { items { ${selection(tree)} } } }`;
        const label = `${who} lists ${coll} expanding ${expand.join(',')}`;
        const want = await rest(who).collection(coll).getList(1, 100, { sort: 'id', expand: expand.join(',') });
        const g = await gql(who, doc);
        assert.ok(g.ok, `${label}: ${JSON.stringify(g.errors)}`);
        const got = g.data[coll].items;
        const a = got.map((x) => shape(x, tree));
        const b = want.items.map((x) => shape(x, tree));
        if (!agree(JSON.stringify(a) === JSON.stringify(b), `${label}: REST ${JSON.stringify(b)}, GraphQL ${JSON.stringify(a)}`)) continue;
        // every nested record is one the caller may view
        const walk = (rec, depth) => {
          if (depth > 0) {
            nestedSeen += 1;
            assert.ok(viewable[who][rec.collectionName]?.has(rec.id), `${label}: reached ${rec.collectionName}/${rec.id}, which REST does not let ${who} view`);
          }
          for (const v of Object.values(rec.expand ?? {})) for (const c of asList(v)) walk(c, depth + 1);
        };
        for (const x of got) walk(x, 0);
        // and the same through one record
        for (const x of want.items) {
          const one = await gql(who, `query($id: ID!) { ${coll}ById(id: $id) { ${selection(tree)} } }`, { id: x.id });
          const rOne = await restCall(() => rest(who).collection(coll).getOne(x.id, { expand: expand.join(',') }));
          if (!rOne.ok) continue; // listed but not viewable: compared in the view test
          assert.ok(one.ok, `${label} ${x.id}: ${JSON.stringify(one.errors)}`);
          assert.deepEqual(shape(one.data[`${coll}ById`], tree), shape(rOne.value, tree), `${label}: view of ${x.id}`);
          walk(one.data[`${coll}ById`], 0);
        }
        compared += 1;
      }
    }
    // a hidden relation: REST expands it for a caller who may view its target (as PocketBase 0.40.6
    // does), and so does GraphQL, the relation's ids staying hidden; its back-relation likewise
    for (const who of CALLERS) {
      const label = `${who} expands the hidden posts.editor`;
      const want = await rest(who).collection('posts').getList(1, 100, { sort: 'id', expand: 'editor' });
      const g = await gql(who, '{ posts(sort: "id", perPage: 100) { items { id expand { editor { id } } } } }');
      assert.ok(g.ok, `${label}: ${JSON.stringify(g.errors)}`);
      assert.deepEqual(g.data.posts.items.map((x) => x.expand?.editor?.id ?? null), want.items.map((x) => x.expand?.editor?.id ?? null), label);
      let wantBack = null;
      try {
        const u = await rest(who).collection('users').getOne(users.bob.id, { expand: 'posts_via_editor' });
        wantBack = (u.expand?.posts_via_editor ?? []).map((x) => x.id);
      } catch (e) {
        assert.equal(e.status, 404, `${label}: ${e}`);
      }
      const back = await gql(who, `query($id: ID!) { usersById(id: $id) { id expand { posts_via_editor { id } } } }`, { id: users.bob.id });
      assert.ok(back.ok, `${label} (back): ${JSON.stringify(back.errors)}`);
      const gotBack = back.data.usersById ? (back.data.usersById.expand?.posts_via_editor ?? []).map((x) => x.id) : null;
      assert.deepEqual(gotBack, wantBack, `${who} expands the back-relation of a hidden relation`);
    }

    noDisagreement(from);
    assert.ok(compared >= 20 && nestedSeen > 50, `${compared} expansions, ${nestedSeen} nested records`);

    // a relation into a superuser-only collection: REST leaves it out of `expand`, GraphQL has no such field
    for (const who of CALLERS) {
      const label = `${who} expands notes.secretRef`;
      const want = await rest(who).collection('notes').getList(1, 30, { sort: 'id', expand: 'secretRef', headers: { 'X-Note-Key': 'open' } });
      const g = await gql(who, '{ notes(sort: "id") { items { id secretRef expand { secretRef { id code } } } } }', {}, { headers: { 'X-Note-Key': 'open' } });
      const expanded = want.items.filter((x) => x.expand?.secretRef).map((x) => x.expand.secretRef.id);
      if (who === 'su') {
        assert.ok(g.ok, `${label}: ${JSON.stringify(g.errors)}`);
        assert.deepEqual(g.data.notes.items.filter((x) => x.expand?.secretRef).map((x) => x.expand.secretRef.id), expanded);
        assert.deepEqual(expanded, [ids.v1]);
      } else {
        assert.deepEqual(expanded, [], `${label}: REST`);
        assertUnknown(g, 'secretRef', label);
      }
    }
  });

  /**
   * Writes: each case runs once through REST and once through GraphQL, each on its own copy of the
   * target (`seed`, run twice by the superuser), then compares the answers and the copies. (A
   * function: the cases name records made by `before`.)
   */
  const writes = () => [
    // posts: @request.auth.collectionName, @request.body =, :isset
    { who: 'guest', coll: 'posts', op: 'create', data: () => ({ title: 'by a guest', author: users.ann.id }) },
    { who: 'ann', coll: 'posts', op: 'create', data: () => ({ title: 'a draft', author: users.ann.id, status: 'draft', tags: ['news', 'tech'], n: 3, project: ids.P1 }) },
    { who: 'ann', coll: 'posts', op: 'create', data: () => ({ title: 'no status', author: users.ann.id }) },
    { who: 'ann', coll: 'posts', op: 'create', data: () => ({ title: 'internal', author: users.ann.id, tags: ['news', 'internal'] }) },
    { who: 'ann', coll: 'posts', op: 'create', data: () => ({ title: 'for bob', author: users.bob.id }) },
    { who: 'ann', coll: 'posts', op: 'create', data: () => ({ title: 'published at once', author: users.ann.id, status: 'published' }) },
    { who: 'ann', coll: 'posts', op: 'create', data: () => ({ title: '', author: users.ann.id }) },
    { who: 'carl', coll: 'posts', op: 'create', data: () => ({ title: 'staff post', author: users.ann.id }) },
    { who: 'su', coll: 'posts', op: 'create', data: () => ({ title: 'by su', author: users.bob.id, status: 'published' }) },
    // posts updates: :lower !~, the body's author
    ...[
      ['ann', { title: 'renamed', tags: ['tech'] }],
      ['ann', { title: 'Cheap SPAM offer' }],
      ['ann', { n: 12 }],
      ['ann', { n: 2.5, project: null }],
      ['ann', { author: users.bob.id }],
      ['ann', { author: users.ann.id, status: 'published' }],
      ['bob', { title: 'taken over' }],
      ['guest', { title: 'anonymous' }],
      ['su', { title: 'moderated', author: users.bob.id }],
    ].map(([who, data]) => ({ who, coll: 'posts', op: 'update', seed: () => su.collection('posts').create({ title: 'seed', author: users.ann.id, status: 'draft', tags: ['news'] }), data: () => data })),
    // posts deletes: a back-relation's :length
    ...['ann', 'bob', 'su'].flatMap((who) => [false, true].map((commented) => ({
      who, coll: 'posts', op: 'delete', note: commented ? 'with a comment' : 'without comments',
      seed: async () => {
        const p = await su.collection('posts').create({ title: 'to delete', author: users.ann.id, status: 'published' });
        if (commented) await su.collection('comments').create({ text: 'keep me', post: p.id, author: users.bob.id });
        return p;
      },
    }))),
    // comments: the new record's relation traversed in a create rule
    { who: 'bob', coll: 'comments', op: 'create', data: () => ({ text: 'nice', post: ids.p1, author: users.bob.id }) },
    { who: 'bob', coll: 'comments', op: 'create', data: () => ({ text: 'Buy sPaM now', post: ids.p1, author: users.bob.id }) },
    { who: 'bob', coll: 'comments', op: 'create', data: () => ({ text: 'on a draft', post: ids.p2, author: users.bob.id }) },
    { who: 'guest', coll: 'comments', op: 'create', data: () => ({ text: 'anonymous', post: ids.p1 }) },
    { who: 'carl', coll: 'comments', op: 'create', data: () => ({ text: 'staff remark', post: ids.p5, reviewer: users.carl.id }) },
    ...[
      ['bob', { text: 'edited' }],
      ['bob', { text: 'moved', post: ids.p3 }],
      ['ann', { text: 'not mine' }],
    ].map(([who, data]) => ({ who, coll: 'comments', op: 'update', seed: () => su.collection('comments').create({ text: 'seed', post: ids.p1, author: users.bob.id }), data: () => data })),
    ...['ann', 'bob', 'carl', 'guest'].map((who) => ({
      who, coll: 'comments', op: 'delete',
      seed: () => su.collection('comments').create({ text: 'seed', post: ids.p5, author: users.cy.id }),
    })),
    // projects: @request.body multi-relation ?= and :length, @collection join on the body's team
    ...[
      ['bob', { title: 'bob in T1', team: ids.T1, members: [users.bob.id] }],
      ['bob', { title: 'bob in T2', team: ids.T2, members: [users.bob.id, users.cy.id] }],
      ['bob', { title: 'bob in T3', team: ids.T3, members: [users.bob.id] }],
      ['bob', { title: 'not a member', team: ids.T2, members: [users.ann.id] }],
      ['ann', { title: 'three members', team: ids.T1, members: [users.ann.id, users.bob.id, users.cy.id] }],
      ['ann', { title: 'ann in T2', team: ids.T2, members: [users.ann.id] }],
      ['carl', { title: 'staff', team: ids.T1, members: [users.carl.id] }],
    ].map(([who, data]) => ({ who, coll: 'projects', op: 'create', data: () => data })),
    ...[
      ['ann', { title: 'retitled' }],
      ['ann', { public: false }],
      ['ann', { title: 'retitled', public: true }],
      ['carl', { title: 'not a member' }],
    ].map(([who, data]) => ({ who, coll: 'projects', op: 'update', seed: () => su.collection('projects').create({ title: 'seed', team: ids.T1, members: [users.ann.id, users.bob.id], public: true }), data: () => data })),
    ...['ann', 'bob'].map((who) => ({ who, coll: 'projects', op: 'delete', seed: () => su.collection('projects').create({ title: 'seed', team: ids.T1, members: [users.bob.id] }) })),
    // memberships: traversal of the body's team, a null update rule
    ...[
      ['ann', { team: ids.T1, user: users.cy.id }],
      ['ann', { team: ids.T1, user: users.cy.id, role: 'member' }],
      ['ann', { team: ids.T1, user: users.cy.id, role: 'admin' }],
      ['bob', { team: ids.T1, user: users.bob.id, role: 'member' }],
    ].map(([who, data]) => ({ who, coll: 'memberships', op: 'create', data: () => data })),
    { who: 'ann', coll: 'memberships', op: 'update', seed: () => su.collection('memberships').create({ team: ids.T1, user: users.cy.id }), data: () => ({ role: 'admin' }) },
    ...['ann', 'bob', 'carl'].map((who) => ({ who, coll: 'memberships', op: 'delete', seed: () => su.collection('memberships').create({ team: ids.T1, user: users.bob.id }) })),
    // teams: superuser-only list/view/delete, open create and update
    { who: 'ann', coll: 'teams', op: 'create', data: () => ({ name: 'ann team', owner: users.ann.id }) },
    { who: 'ann', coll: 'teams', op: 'create', data: () => ({ name: 'for bob', owner: users.bob.id }) },
    { who: 'bob', coll: 'teams', op: 'update', seed: () => su.collection('teams').create({ name: 'seed', owner: users.bob.id }), data: () => ({ name: 'renamed' }) },
    { who: 'ann', coll: 'teams', op: 'update', seed: () => su.collection('teams').create({ name: 'seed', owner: users.bob.id }), data: () => ({ name: 'renamed' }) },
    { who: 'bob', coll: 'teams', op: 'delete', seed: () => su.collection('teams').create({ name: 'seed', owner: users.bob.id }) },
    // notes and vault: superuser-only writes
    { who: 'carl', coll: 'notes', op: 'create', data: () => ({ text: 'from staff', owner: users.ann.id }) },
    { who: 'ann', coll: 'notes', op: 'create', data: () => ({ text: 'from ann', owner: users.ann.id }) },
    { who: 'ann', coll: 'notes', op: 'update', seed: () => su.collection('notes').create({ text: 'seed', owner: users.ann.id }), data: () => ({ text: 'changed' }) },
    { who: 'ann', coll: 'notes', op: 'delete', seed: () => su.collection('notes').create({ text: 'seed', owner: users.ann.id }) },
    { who: 'su', coll: 'notes', op: 'delete', seed: () => su.collection('notes').create({ text: 'seed', owner: users.ann.id }) },
    { who: 'ann', coll: 'vault', op: 'create', data: () => ({ code: 'open sesame' }) },
    { who: 'su', coll: 'vault', op: 'create', data: () => ({ code: 'open sesame' }) },
    // events: @now against the body
    { who: 'ann', coll: 'events', op: 'create', data: () => ({ title: 'soon', start: date(Date.now() + 2 * DAY) }) },
    { who: 'ann', coll: 'events', op: 'create', data: () => ({ title: 'bygone', start: date(Date.now() - 2 * DAY) }) },
    { who: 'guest', coll: 'events', op: 'create', data: () => ({ title: 'soon', start: date(Date.now() + 2 * DAY) }) },
    ...['carl', 'ann'].map((who) => ({ who, coll: 'events', op: 'delete', seed: () => su.collection('events').create({ title: 'seed', start: date(Date.now()) }) })),
    // pings: @request.method
    { who: 'ann', coll: 'pings', op: 'create', data: () => ({ label: 'posted' }) },
    { who: 'ann', coll: 'pings', op: 'update', seed: () => su.collection('pings').create({ label: 'seed' }), data: () => ({ label: 'patched' }) },
    { who: 'ann', coll: 'pings', op: 'delete', seed: () => su.collection('pings').create({ label: 'seed' }) },
    // users: an auth collection's update rule
    ...['ann', 'su'].map((who) => ({
      who, coll: 'users', op: 'update', data: () => ({ name: 'renamed' }),
      seed: () => su.collection('users').create({ email: `u${Math.random().toString(36).slice(2, 10)}@example.com`, password: PASSWORD, passwordConfirm: PASSWORD, name: 'seed' }),
    })),
  ];

  it('writes: creates, updates and deletes answer alike and change the data alike', async () => {
    const from = disagreements.length;
    const count = async (coll) => (await su.collection(coll).getList(1, 1)).totalItems;
    const exists = async (coll, id) => (await restCall(() => su.collection(coll).getOne(id))).ok;
    const cases = writes();
    for (const w of cases) {
      const { who, coll, op } = w;
      const T = base(coll);
      const field = `${op}${T}`;
      const data = w.data?.();
      const label = `${who} ${op}s ${coll}${w.note ? ` (${w.note})` : ''}${data ? ` ${JSON.stringify(data)}` : ''} under ${JSON.stringify(RULES[coll][`${op}Rule`])}`;
      const out = (x) => (x.ok ? 'success' : x.status ? `${x.status} ${JSON.stringify(x.data)}` : JSON.stringify(x.errors));
      const before = await count(coll);
      let r;
      let g;
      let seeds = [];
      let made = [];
      if (op === 'create') {
        r = await restCall(() => rest(who).collection(coll).create(data));
        made.push(await count(coll) - before);
        g = await gql(who, `mutation($data: ${T}CreateInput!) { ${field}(data: $data) { id } }`, { data });
        made.push(await count(coll) - before - made[0]);
      } else {
        seeds = [await w.seed(), await w.seed()];
        if (op === 'update') {
          r = await restCall(() => rest(who).collection(coll).update(seeds[0].id, data));
          g = await gql(who, `mutation($id: ID!, $data: ${T}UpdateInput!) { ${field}(id: $id, data: $data) { id } }`, { id: seeds[1].id, data });
        } else {
          r = await restCall(() => rest(who).collection(coll).delete(seeds[0].id));
          g = await gql(who, `mutation($id: ID!) { ${field}(id: $id) }`, { id: seeds[1].id });
        }
      }

      // the answers: REST's status ⇔ the GraphQL error's extensions.status (and field errors)
      if (isNull(coll, op, who)) {
        assert.equal(r.status, 403, `${label}: REST ${JSON.stringify(r)}`);
        assertUnknown(g, field, label);
        tally.write.unknown += 1;
      } else if (r.ok) {
        if (!agree(g.ok, `${label}: REST ${out(r)}, GraphQL ${out(g)}`)) continue;
        if (op === 'delete') assert.equal(g.data[field], true);
        else assert.ok(g.data[field]?.id, `${label}: ${JSON.stringify(g.data)}`);
        tally.write.ok += 1;
      } else {
        if (!agree(!g.ok && g.errors[0].extensions?.status === r.status, `${label}: REST ${out(r)}, GraphQL ${g.ok ? `success ${JSON.stringify(g.data)}` : out(g)}`)) continue;
        assert.deepEqual(g.errors[0].extensions?.data ?? {}, r.data, `${label}: field errors`);
        tally.write.refused += 1;
      }

      // the data: each side's write changed (or left) its copy alike, as the superuser sees it
      if (op === 'create') {
        assert.deepEqual(made, r.ok ? [1, 1] : [0, 0], `${label}: records created by REST, GraphQL`);
        if (r.ok) {
          const a = await su.collection(coll).getOne(r.value.id);
          const b = await su.collection(coll).getOne(g.data[field].id);
          assert.deepEqual(strip(b), strip(a), `${label}: the records written`);
          for (const [k, v] of Object.entries(data)) assert.deepEqual(a[k], v ?? "", `${label}: ${k} written (null clears)`);
        }
      } else if (op === 'update') {
        const [a, b] = await Promise.all(seeds.map((x) => su.collection(coll).getOne(x.id)));
        const keys = coll === 'users' ? ['name', 'verified', 'emailVisibility'] : Object.keys(strip(a));
        assert.deepEqual(pick(b, keys), { ...pick(a, keys), id: b.id }, `${label}: the copies after the writes`);
        if (r.ok) for (const [k, v] of Object.entries(data)) assert.deepEqual(a[k], v ?? "", `${label}: ${k} written (null clears)`);
        else assert.deepEqual([a.updated, b.updated], [seeds[0].updated, seeds[1].updated], `${label}: unchanged`);
      } else {
        const left = [await exists(coll, seeds[0].id), await exists(coll, seeds[1].id)];
        assert.deepEqual(left, r.ok ? [false, false] : [true, true], `${label}: the copies left after REST, GraphQL`);
      }
    }
    noDisagreement(from);
    assert.ok(tally.write.ok >= 15 && tally.write.refused >= 15 && tally.write.unknown >= 5, JSON.stringify(tally.write));
  });

  it('a write answers with the record as the caller may see it, expanded alike', async () => {
    // the mutation's answer and REST's answer to the same write, with a relation the caller may
    // not view (P3 is bob's team's private project) and ones it may
    for (const who of ['ann', 'su']) {
      const data = { title: `answer ${who}`, author: users.ann.id, status: 'draft', project: ids.P3 };
      const tree = treeOf('posts', ['author', 'project.members', 'project.team']);
      const r = await rest(who).collection('posts').create(data, { expand: 'author,project.members,project.team' });
      const g = await gql(who, `mutation($data: PostsCreateInput!) { createPosts(data: $data) { ${selection(tree)} } }`, { data });
      assert.ok(g.ok, JSON.stringify(g.errors));
      const got = g.data.createPosts;
      assert.deepEqual({ ...pick(got, RULES.posts.fields), id: 0 }, { ...pick(r, RULES.posts.fields), id: 0 }, who);
      const norm = (x) => JSON.stringify(shape(x, tree).expand);
      assert.equal(norm(got), norm(r), `${who}: expand of a created post`);
      if (who === 'ann') assert.deepEqual(asList(got.expand?.project), [], 'ann may not view P3');
      await su.collection('posts').delete(r.id);
      await su.collection('posts').delete(got.id);
    }
  });
});
