// pb_hooks (PocketBase's JavaScript hooks) in Kiln: the same hook files served by Kiln and by
// PocketBase 0.40.6 answer the same requests the same way (routes, the request event, middlewares,
// error envelopes); and what only Kiln does: a broken file stops the start naming its line, and a
// runaway hook ends its request while the server lives on.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import PocketBase from 'pocketbase';
import { startServer, SUPERUSER, pocketbaseBin } from './server.mjs';

const pg = !!process.env.KILN_TEST_DATABASE_URL;


const HOOKS = String.raw`
routerAdd("GET", "/api/hello/{name}", (e) => {
  const name = e.request.pathValue("name");
  return e.json(200, { message: "Hello " + name, q: e.request.url.query().get("q") });
});
routerAdd("POST", "/api/echo", (e) => {
  const info = e.requestInfo();
  return e.json(201, { body: info.body, method: info.method, header: e.request.header.get("X-Test") });
});
routerAdd("GET", "/api/text", (e) => e.string(200, "plain text"));
routerAdd("GET", "/api/page", (e) => e.html(200, "<p>hi</p>"));
routerAdd("DELETE", "/api/nothing", (e) => e.noContent(204));
routerAdd("GET", "/api/away", (e) => e.redirect(307, "/api/text"));
routerAdd("GET", "/api/invalid", () => {
  throw new BadRequestError("check the input", { title: new ValidationError("too_short", "too short") });
});
routerAdd("GET", "/api/missing", () => { throw new NotFoundError(); });
routerAdd("GET", "/api/teapot", () => { throw new ApiError(418, "short and stout"); });
routerAdd("GET", "/api/crash", () => { undefined.x; });
routerAdd("GET", "/api/me", (e) => e.json(200, { idLength: e.auth.id.length, collection: e.auth.collection().name, email: e.auth.email(), verified: e.auth.verified() }), $apis.requireAuth());
routerAdd("GET", "/api/users-only", (e) => e.noContent(204), $apis.requireAuth("users"));
routerAdd("GET", "/api/admin", (e) => e.json(200, { superuser: e.hasSuperuserAuth() }), $apis.requireSuperuserAuth());
routerAdd("GET", "/api/guests", (e) => e.noContent(204), $apis.requireGuestOnly());
routerAdd("GET", "/api/owner/{id}", (e) => e.noContent(204), $apis.requireSuperuserOrOwnerAuth());
routerAdd("GET", "/api/chain", (e) => e.string(200, e.request.header.get("X-Trail")), (e) => {
  e.request.header.get("X-Trail");
  return e.next();
});
routerAdd("GET", "/api/collections/posts/records", (e) => e.json(200, { replaced: true }));
routerAdd("GET", "/api/post/{id}", (e) => e.json(200, $app.findRecordById("posts", e.request.pathValue("id"))));
routerAdd("GET", "/api/post/{id}/fields", (e) => {
  const r = $app.findRecordById("posts", e.request.pathValue("id"));
  return e.json(200, { title: r.get("title"), secret: r.get("secret"), views: r.getInt("views"), id: r.id });
});
routerAdd("GET", "/api/nowhere", (e) => e.json(200, $app.findRecordById("nowhere", "x")));
routerUse((e) => {
  if (e.request.url.query().get("block") === "1") throw new ForbiddenError("Blocked by a middleware.");
  if (e.request.url.path === "/api/short") return e.json(200, { short: true });
  return e.next();
});
onRecordAuthRequest((e) => {
  if (e.record.email().startsWith("banned")) throw new ForbiddenError("Banned.");
  e.next();
}, "users");
onRecordEnrich((e) => {
  e.record.withCustomData(true);
  e.record.set("seenBy", e.requestInfo.auth ? e.requestInfo.auth.collection().name : "guest");
  e.next();
}, "users");
routerAdd("GET", "/api/report", (e) => {
  const rows = arrayOf(new DynamicModel({ title: "", views: 0 }));
  $app.db().newQuery("SELECT title, views FROM posts WHERE views >= {:min} ORDER BY title").bind({ min: 1 }).all(rows);
  const one = new DynamicModel({ total: 0 });
  $app.db().newQuery("SELECT COUNT(*) AS total FROM posts").one(one);
  let missing = "found";
  try {
    $app.db().newQuery("SELECT title FROM posts WHERE id = 'nope'").one(new DynamicModel({ title: "" }));
  } catch (err) {
    missing = "none";
  }
  return e.json(200, { rows, total: one.total, missing });
});
routerAdd("GET", "/api/settings-peek", (e) => {
  const s = $app.settings();
  return e.json(200, { name: s.meta.appName, batch: s.batch.enabled, smtp: s.smtp.enabled, maxDays: s.logs.maxDays });
});
routerAdd("POST", "/api/bind", (e) => {
  const data = new DynamicModel({ title: "", n: 0 });
  e.bindBody(data);
  return e.json(200, data);
});
routerAdd("GET", "/api/security", (e) => {
  const key = "0123456789abcdef0123456789abcdef";
  const refused = (f) => { try { f(); return "accepted"; } catch (err) { return "refused"; } };
  return e.json(200, {
    md5: $security.md5("test"), sha256: $security.sha256("test"), sha512: $security.sha512("test"),
    hs256: $security.hs256("hello", "secret"), hs512: $security.hs512("hello", "secret"),
    equal: [$security.equal("abc", "abc"), $security.equal("abc", "abd")],
    random: [$security.randomString(12).length, /^[xy]{20}$/.test($security.randomStringWithAlphabet(20, "xy"))],
    jwt: $security.parseJWT($security.createJWT({ id: "u1" }, "key", 60), "key").id,
    unverified: $security.parseUnverifiedJWT($security.createJWT({ n: 5 }, "key", 60)).n,
    expired: refused(() => $security.parseUnverifiedJWT($security.createJWT({ n: 5 }, "key", 0))),
    wrongKey: refused(() => $security.parseJWT($security.createJWT({}, "key", 60), "other")),
    sealed: $security.decrypt($security.encrypt("secret text", key), key),
  });
});
routerAdd("GET", "/api/fetch", (e) => {
  const res = $http.send({ url: "http://" + e.request.host + "/api/health?x=1", headers: { "X-Probe": "1" }, timeout: 5 });
  return e.json(200, { status: res.statusCode, code: res.json.code, type: res.headers["Content-Type"], raw: typeof res.raw });
});
`;

/** The requests both servers answer; `as`: '' (guest), 'su' or 'user'. */
const CASES = [
  ['GET', '/api/hello/w%C3%B6rld?q=1', ''],
  ['POST', '/api/echo', '', { a: [1, 'b'] }],
  ['GET', '/api/text', ''],
  ['GET', '/api/page', ''],
  ['DELETE', '/api/nothing', ''],
  ['GET', '/api/invalid', ''],
  ['GET', '/api/missing', ''],
  ['GET', '/api/teapot', ''],
  ['GET', '/api/crash', ''],
  ['GET', '/api/me', ''],
  ['GET', '/api/me', 'user'],
  ['GET', '/api/users-only', 'su'],
  ['GET', '/api/users-only', 'user'],
  ['GET', '/api/admin', 'user'],
  ['GET', '/api/admin', 'su'],
  ['GET', '/api/guests', ''],
  ['GET', '/api/guests', 'user'],
  ['POST', '/api/hello/x', ''],
  ['GET', '/api/owner/someone', ''],
  ['GET', '/api/owner/someone', 'user'],
  ['GET', '/api/owner/someone', 'su'],
  ['GET', '/api/collections/posts/records', ''],
  ['GET', '/api/post/p00000000000001', ''],
  ['GET', '/api/post/p00000000000001/fields', ''],
  ['GET', '/api/post/nope', ''],
  ['GET', '/api/nowhere', ''],
  ['GET', '/api/security', ''],
  ['GET', '/api/health?block=1', ''],
  ['GET', '/api/collections/posts/records?block=1', 'su'],
  ['GET', '/api/hello/x?block=1', ''],
  ['GET', '/api/short', ''],
  ['GET', '/api/collections/posts/records/p00000000000001?fields=id,title', ''],
  ['POST', '/api/bind', '', { title: 'x', n: 5, extra: true }],
  ['GET', '/api/report', ''],
  ['GET', '/api/settings-peek', ''],
  ['POST', '/api/collections/users/auth-with-password', '', { identity: 'u@example.com', password: 'a-long-password' }],
  ['POST', '/api/collections/users/auth-with-password', '', { identity: 'banned@example.com', password: 'a-long-password' }],
];

async function serve(bin, extra = []) {
  const hooks = mkdtempSync(join(tmpdir(), 'kiln-hooks-'));
  writeFileSync(join(hooks, 'main.pb.js'), HOOKS);
  const server = await startServer({ bin, serveArgs: ['--hooksDir', hooks, ...extra] });
  const pb = new PocketBase(server.url);
  await pb.collection('_superusers').authWithPassword(SUPERUSER.email, SUPERUSER.password);
  await pb.collection('users').create({ email: 'u@example.com', password: 'a-long-password', passwordConfirm: 'a-long-password' });
  await pb.collection('users').create({ email: 'banned@example.com', password: 'a-long-password', passwordConfirm: 'a-long-password' });
  await pb.collections.create({
    name: 'posts',
    type: 'base',
    fields: [{ name: 'title', type: 'text' }, { name: 'secret', type: 'text', hidden: true }, { name: 'views', type: 'number' }],
  });
  await pb.collection('posts').create({ id: 'p00000000000001', title: 'Hello', secret: 's3cret', views: 7 });
  const user = new PocketBase(server.url);
  await user.collection('users').authWithPassword('u@example.com', 'a-long-password');
  const tokens = { '': '', su: pb.authStore.token, user: user.authStore.token };
  return {
    server,
    async answers() {
      const out = [];
      for (const [method, path, as, body] of CASES) {
        const headers = { 'X-Test': 'yes', 'X-Trail': 'a' };
        if (tokens[as]) headers.Authorization = tokens[as];
        if (body) headers['Content-Type'] = 'application/json';
        const res = await fetch(server.url + path, { method, headers, body: body ? JSON.stringify(body) : undefined, redirect: 'manual' });
        const text = await res.text();
        let parsed = text;
        try {
          parsed = JSON.parse(text);
        } catch {}
        out.push({
          request: `${method} ${path} as ${as || 'guest'}`,
          status: res.status,
          type: (res.headers.get('content-type') ?? '').split(';')[0],
          location: res.headers.get('location'),
          body: parsed,
        });
      }
      return out;
    },
    async stop() {
      await server.stop();
      rmSync(hooks, { recursive: true, force: true });
    },
  };
}

describe('pb_hooks routes', { skip: pg }, () => {
  let kiln;
  before(async () => (kiln = await serve()));
  after(async () => kiln?.stop());

  it('answer as their hooks say', async () => {
    const got = await kiln.answers();
    const by = (r) => got.find((g) => g.request === r);
    assert.deepEqual(by('GET /api/hello/w%C3%B6rld?q=1 as guest').body, { message: 'Hello wörld', q: '1' });
    assert.deepEqual(by('POST /api/echo as guest').body, { body: { a: [1, 'b'] }, method: 'POST', header: 'yes' });
    assert.deepEqual(by('GET /api/invalid as guest'), {
      request: 'GET /api/invalid as guest', status: 400, type: 'application/json', location: null,
      body: { data: { title: { code: 'too_short', message: 'Too short.' } }, message: 'Check the input.', status: 400 },
    });
    assert.equal(by('GET /api/me as user').body.email, 'u@example.com');
    assert.equal(by('GET /api/collections/posts/records as guest').body.replaced, true, 'a hook route goes before Kiln\'s own');
    assert.deepEqual(by('GET /api/report as guest').body, { rows: [{ title: 'Hello', views: 7 }], total: 1, missing: 'none' });
    assert.deepEqual(by('GET /api/settings-peek as guest').body, { name: 'Acme', batch: false, smtp: false, maxDays: 5 });
  });

  it('match PocketBase 0.40.6 running the same files', { skip: !pocketbaseBin() }, async () => {
    const pbs = await serve(pocketbaseBin());
    try {
      const theirs = await pbs.answers();
      const ours = await kiln.answers();
      // what differs between any two servers: tokens, record ids, times
      const same = (a) => JSON.parse(JSON.stringify(a)
        .replace(/eyJ[\w-]+\.[\w-]+\.[\w-]+/g, '<jwt>')
        .replace(/"(id|collectionId)":"\w+"/g, '"$1":"<id>"')
        .replace(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+Z/g, '<date>'));
      for (let i = 0; i < CASES.length; i++) assert.deepEqual(same(ours[i]), same(theirs[i]), ours[i].request);
    } finally {
      await pbs.stop();
    }
  });
});

describe('pb_hooks $http.send', { skip: pg }, () => {
  const fetchIt = async (s) => {
    const res = await fetch(s.server.url + '/api/fetch');
    return { status: res.status, body: await res.json() };
  };
  it('reaches the server itself in dev mode, as PocketBase 0.40.6 does', { skip: !pocketbaseBin() }, async () => {
    const kiln = await serve(undefined, ['--dev']);
    const pbs = await serve(pocketbaseBin());
    try {
      const ours = await fetchIt(kiln);
      assert.deepEqual(ours, { status: 200, body: { status: 200, code: 200, type: ['application/json'], raw: 'string' } });
      assert.deepEqual(ours, await fetchIt(pbs));
    } finally {
      await kiln.stop();
      await pbs.stop();
    }
  });
  it('refuses private addresses outside dev mode', async () => {
    const kiln = await serve();
    try {
      assert.deepEqual(await fetchIt(kiln), { status: 400, body: { data: {}, message: 'Something went wrong while processing your request.', status: 400 } });
    } finally {
      await kiln.stop();
    }
  });
});

describe('pb_hooks safety', { skip: pg }, () => {
  it('a broken file stops the start, naming the file and line', () => {
    const hooks = mkdtempSync(join(tmpdir(), 'kiln-hooks-'));
    const data = mkdtempSync(join(tmpdir(), 'kiln-data-'));
    try {
      writeFileSync(join(hooks, 'ok.pb.js'), 'routerAdd("GET", "/api/ok", (e) => e.noContent(204));\n');
      writeFileSync(join(hooks, 'broken.pb.js'), '// a comment\n\nrouterAdd("GET", "/api/x", (e) => {\n');
      const bin = process.env.KILN_BIN ?? join(import.meta.dirname, '..', '..', 'target', 'release', 'kiln');
      const r = spawnSync(bin, ['serve', '--http', '127.0.0.1:0', '--dir', data, '--hooksDir', hooks], { encoding: 'utf8', timeout: 20_000 });
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, /pb_hooks\/broken\.pb\.js: .*\n?.*broken\.pb\.js:\d/);
    } finally {
      rmSync(hooks, { recursive: true, force: true });
      rmSync(data, { recursive: true, force: true });
    }
  });

  it('--hooksWatch restarts the server with the changed files', async () => {
    const hooks = mkdtempSync(join(tmpdir(), 'kiln-hooks-'));
    const file = join(hooks, 'main.pb.js');
    writeFileSync(file, 'routerAdd("GET", "/api/version", (e) => e.string(200, "one"));\n');
    const server = await startServer({ serveArgs: ['--hooksDir', hooks, '--hooksWatch'] });
    try {
      assert.equal(await (await fetch(server.url + '/api/version')).text(), 'one');
      writeFileSync(file, 'routerAdd("GET", "/api/version", (e) => e.string(200, "two, longer"));\n');
      let seen = '';
      for (let i = 0; i < 100 && seen !== 'two, longer'; i++) {
        await new Promise((r) => setTimeout(r, 100));
        seen = await fetch(server.url + '/api/version').then((r) => r.text(), () => '');
      }
      assert.equal(seen, 'two, longer');
    } finally {
      await server.stop();
      rmSync(hooks, { recursive: true, force: true });
    }
  });

  it('an endless loop or a runaway allocation ends its request; the server lives on', async () => {
    const hooks = mkdtempSync(join(tmpdir(), 'kiln-hooks-'));
    writeFileSync(join(hooks, 'bad.pb.js'), [
      'routerAdd("GET", "/api/loop", () => { while (true) {} });',
      'routerAdd("GET", "/api/hog", () => { const a = []; while (true) a.push("x".repeat(4096)); });',
      'routerAdd("GET", "/api/ok", (e) => e.noContent(204));',
    ].join('\n'));
    const server = await startServer({ serveArgs: ['--hooksDir', hooks, '--hooksPool', '1', '--hooksTimeout', '0.5', '--hooksMemory', '32'] });
    try {
      for (const path of ['/api/loop', '/api/hog']) {
        const res = await fetch(server.url + path);
        assert.equal(res.status, 500, path);
        assert.deepEqual(await res.json(), { data: {}, message: 'Something went wrong while processing your request.', status: 500 });
        assert.equal((await fetch(server.url + '/api/ok')).status, 204, `after ${path}`);
      }
    } finally {
      await server.stop();
      rmSync(hooks, { recursive: true, force: true });
    }
  });
});
