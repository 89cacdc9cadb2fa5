// The API described: /api/openapi.json is a valid OpenAPI 3.1 document (openapi-spec-validator)
// made from the live schema — a guest sees what the rules open to guests, a superuser everything,
// a collection changed is described at once — and the records the API answers (every field type)
// validate against the document's schemas. /api/docs serves Swagger UI under its own CSP.
// `kiln typegen` writes TypeScript types that compile (tsc --strict) against the PocketBase SDK, and
// openapi-typescript makes from the document a typed client (openapi-fetch) that compiles too.
// schemathesis, run against the live server with the document, finds no server error and no answer
// that breaks the document.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import PocketBase from 'pocketbase';
import { startServer, SUPERUSER } from './server.mjs';

const CHECK = join(import.meta.dirname, '..', '..', 'tools', 'openapi', 'check.py');

/** Runs tools/openapi/check.py on `doc` (and `samples`); its output when it fails. */
function check(doc, samples) {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-openapi-'));
  try {
    writeFileSync(join(dir, 'doc.json'), JSON.stringify(doc));
    const args = [CHECK, join(dir, 'doc.json')];
    if (samples) {
      writeFileSync(join(dir, 'samples.json'), JSON.stringify(samples));
      args.push(join(dir, 'samples.json'));
    }
    const r = spawnSync('python3', args, { encoding: 'utf8' });
    return r.status === 0 ? '' : `${r.stdout}${r.stderr}` || `exit ${r.status}`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('OpenAPI document and docs', () => {
  let server;
  let su;
  const get = async (path, token) => {
    const res = await fetch(server.url + path, { headers: token ? { Authorization: token } : {} });
    return { status: res.status, headers: res.headers, body: res.headers.get('content-type')?.includes('json') ? await res.json() : await res.text() };
  };

  before(async () => {
    server = await startServer();
    su = new PocketBase(server.url);
    su.autoCancellation(false);
    await su.collection('_superusers').authWithPassword(SUPERUSER.email, SUPERUSER.password);
    const users = await su.collections.getOne('users');
    const tags = await su.collections.create({ name: 'tags', type: 'base', listRule: '', viewRule: '', fields: [{ name: 'title', type: 'text', required: true }] });
    await su.collections.create({
      name: 'gadgets',
      type: 'base',
      listRule: '',
      viewRule: '',
      createRule: '',
      updateRule: null,
      deleteRule: null,
      fields: [
        { name: 'title', type: 'text', required: true, min: 2, max: 50 },
        { name: 'price', type: 'number', min: 0 },
        { name: 'count', type: 'number', onlyInt: true },
        { name: 'active', type: 'bool' },
        { name: 'contact', type: 'email' },
        { name: 'site', type: 'url' },
        { name: 'notes', type: 'editor' },
        { name: 'released', type: 'date' },
        { name: 'size', type: 'select', values: ['s', 'm', 'l'], maxSelect: 1 },
        { name: 'colors', type: 'select', values: ['red', 'blue'], maxSelect: 2 },
        { name: 'photo', type: 'file', maxSelect: 1, maxSize: 100000 },
        { name: 'docs', type: 'file', maxSelect: 3, maxSize: 100000 },
        { name: 'owner', type: 'relation', collectionId: users.id, maxSelect: 1 },
        { name: 'tags', type: 'relation', collectionId: tags.id, maxSelect: 5 },
        { name: 'specs', type: 'json' },
        { name: 'where', type: 'geoPoint' },
        { name: 'secret', type: 'text', hidden: true },
        { name: 'created', type: 'autodate', onCreate: true },
      ],
    });
    await su.collections.create({ name: 'vault', type: 'base', fields: [{ name: 'code', type: 'text' }] });
    await su.collections.create({ name: 'gadget_titles', type: 'view', listRule: '', viewRule: '', viewQuery: 'SELECT id, title FROM gadgets' });
  });
  after(async () => server?.stop());

  it('is valid OpenAPI 3.1, and shows a guest only what the rules open to guests', async () => {
    const { status, body: doc } = await get('/api/openapi.json');
    assert.equal(status, 200);
    assert.equal(doc.openapi, '3.1.0');
    assert.equal(check(doc), '');
    const paths = Object.keys(doc.paths);
    assert.ok(doc.paths['/api/collections/gadgets/records'].get, 'a public list');
    assert.ok(doc.paths['/api/collections/gadgets/records'].post, 'a public create');
    assert.equal(doc.paths['/api/collections/gadgets/records/{recordId}'].patch, undefined, 'an update only superusers may make');
    assert.ok(!paths.some((p) => p.includes('/vault/')), 'a superuser-only collection');
    assert.ok(!paths.includes('/api/collections') && !paths.includes('/api/settings'), 'the superuser API');
    assert.ok(doc.paths['/api/collections/users/auth-with-password'].post, "an auth collection's sign-in");
    assert.ok(doc.paths['/api/collections/gadget_titles/records'].get && !doc.paths['/api/collections/gadget_titles/records'].post, 'a view reads only');
    const rec = doc.components.schemas.GadgetsRecord;
    assert.equal(rec.properties.secret, undefined, 'a hidden field is never answered');
    assert.deepEqual(rec.properties.size.enum, ['s', 'm', 'l', '']);
    assert.equal(rec.properties.count.type, 'integer');
    assert.equal(doc.components.schemas.GadgetsCreate.properties.title.minLength, 2);
    assert.ok(doc.components.schemas.GadgetsCreate.required.includes('title'));
    assert.equal(doc.components.schemas.GadgetsCreate.properties.created, undefined, 'autodates are not written');
    assert.equal(doc.components.schemas.UsersCreate.properties.password.writeOnly, true);
  });

  it('shows a superuser everything, and a collection changed at once', async () => {
    const token = su.authStore.token;
    let { body: doc } = await get('/api/openapi.json', token);
    assert.equal(check(doc), '');
    assert.ok(doc.paths['/api/collections/vault/records'].get);
    assert.ok(doc.paths['/api/collections'].post && doc.paths['/api/settings'].patch && doc.paths['/api/backups'].get);
    assert.ok(doc.paths['/api/collections/gadgets/records/{recordId}'].patch);
    const vault = await su.collections.getOne('vault');
    await su.collections.update('vault', { listRule: '', fields: [...vault.fields, { name: 'level', type: 'number' }] });
    ({ body: doc } = await get('/api/openapi.json'));
    assert.ok(doc.paths['/api/collections/vault/records'].get, 'opened to guests now');
    assert.equal(doc.components.schemas.VaultRecord.properties.level.type, 'number');
  });

  it("describes what the API answers: records of every field type validate against their schemas", async () => {
    const owner = await su.collection('users').create({ email: 'owner@example.com', password: 'owner-pass-1', passwordConfirm: 'owner-pass-1', name: 'Owner' });
    const tag = await su.collection('tags').create({ title: 'new' });
    const form = new FormData();
    const fields = {
      title: 'Lamp', price: 9.5, count: 3, active: true, contact: 'shop@example.com', site: 'https://example.com',
      notes: '<p>bright</p>', released: '2024-05-01 10:00:00.000Z', size: 'm', specs: JSON.stringify({ watts: 40 }),
      where: JSON.stringify({ lon: 2.35, lat: 48.85 }), owner: owner.id, secret: 'x',
    };
    for (const [k, v] of Object.entries(fields)) form.append(k, String(v));
    form.append('colors', 'red');
    form.append('colors', 'blue');
    form.append('tags', tag.id);
    form.append('photo', new Blob([Buffer.from('GIF89a\x01\x00\x01\x00\x00\x00\x00;')], { type: 'image/gif' }), 'lamp.gif');
    const full = await su.collection('gadgets').create(form);
    const empty = await su.collection('gadgets').create({ title: 'Bare' });
    const guest = new PocketBase(server.url);
    const list = await guest.collection('gadgets').getList(1, 10, { expand: 'owner,tags' });
    const samples = {
      GadgetsRecord: [full, empty, ...list.items],
      UsersRecord: [owner, (await su.collection('users').authWithPassword('owner@example.com', 'owner-pass-1')).record],
      TagsRecord: [tag],
      GadgetTitlesRecord: (await guest.collection('gadget_titles').getFullList()),
    };
    const { body: doc } = await get('/api/openapi.json', su.authStore.token);
    assert.equal(check(doc, samples), '');
    // and one that breaks the schema is caught (the check can fail)
    assert.notEqual(check(doc, { GadgetsRecord: [{ ...empty, count: 'three' }] }), '');
  });

  it('kiln typegen writes types the SDK compiles with, and that catch mistakes', async () => {
    // inside this suite, so that the SDK resolves from its node_modules
    const dir = mkdtempSync(join(import.meta.dirname, '.typegen-'));
    try {
      // on the server's data (its database, on PostgreSQL), beside it
      const types = spawnSync(server.bin, ['typegen', '--dir', server.dir], { encoding: 'utf8', env: server.env });
      assert.equal(types.status, 0, types.stderr);
      writeFileSync(join(dir, 'types.ts'), types.stdout);
      writeFileSync(join(dir, 'use.ts'), String.raw`
import PocketBase from 'pocketbase';
import { Collections, type TypedPocketBase, type GadgetsResponse, type GadgetsCreate, type UsersResponse } from './types';
const pb = new PocketBase('http://127.0.0.1:1') as TypedPocketBase;
export async function use(): Promise<void> {
  const g = await pb.collection('gadgets').getOne('x', { expand: 'owner' });
  const title: string = g.title;
  const price: number = g.price;
  const size: '' | 's' | 'm' | 'l' = g.size;
  const colors: ('red' | 'blue')[] = g.colors;
  const docs: string[] = g.docs;
  const where: { lon: number; lat: number } = g.where;
  const create: GadgetsCreate = { title: 'Lamp', photo: new Blob(['x']), colors: ['red'] };
  await pb.collection(Collections.Gadgets).create(create);
  const page = await pb.collection<GadgetsResponse<{ owner: UsersResponse }>>('gadgets').getList(1, 10);
  const owner: string | undefined = page.items[0]?.expand?.owner.email;
  // @ts-expect-error a field the collection does not have
  g.nope;
  // @ts-expect-error a hidden field is never answered
  g.secret;
  // @ts-expect-error a value outside the select's options
  const bad: GadgetsCreate = { title: 'x', size: 'xl' };
  // @ts-expect-error a required field missing
  const missing: GadgetsCreate = { price: 1 };
  void [title, price, size, colors, docs, where, owner, bad, missing];
}
`);
      writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
        compilerOptions: { strict: true, noEmit: true, target: 'es2022', module: 'esnext', moduleResolution: 'bundler', skipLibCheck: true, types: [] },
        files: ['use.ts'],
      }));
      const tsc = spawnSync(process.execPath, [join(import.meta.dirname, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir], { encoding: 'utf8' });
      assert.equal(tsc.status, 0, `${tsc.stdout}${tsc.stderr}
--- types.ts ---
${types.stdout}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('openapi-typescript makes a client from the document that compiles, and catches mistakes', async () => {
    const dir = mkdtempSync(join(import.meta.dirname, '.openapi-ts-'));
    try {
      const { body: doc } = await get('/api/openapi.json', su.authStore.token);
      writeFileSync(join(dir, 'openapi.json'), JSON.stringify(doc));
      const gen = spawnSync(process.execPath, [join(import.meta.dirname, 'node_modules', 'openapi-typescript', 'bin', 'cli.js'), join(dir, 'openapi.json'), '-o', join(dir, 'api.d.ts')], { encoding: 'utf8' });
      assert.equal(gen.status, 0, `${gen.stdout}${gen.stderr}`);
      writeFileSync(join(dir, 'client.ts'), String.raw`
import createClient from 'openapi-fetch';
import type { paths, components } from './api';
const api = createClient<paths>({ baseUrl: 'http://127.0.0.1:1' });
export async function use(): Promise<void> {
  const { data } = await api.GET('/api/collections/gadgets/records/{recordId}', { params: { path: { recordId: 'x' }, query: { expand: 'owner' } } });
  const title: string | undefined = data?.title;
  const list = await api.GET('/api/collections/gadgets/records', { params: { query: { page: 1, perPage: 10, filter: "title != ''" } } });
  const total: number | undefined = list.data?.totalItems;
  const created = await api.POST('/api/collections/gadgets/records', { body: { title: 'Lamp', size: 'm' } });
  const err: components['schemas']['Error'] | undefined = created.error;
  await api.POST('/api/collections/users/auth-with-password', { body: { identity: 'a@b.c', password: 'secret' } });
  // @ts-expect-error a path the API does not have
  await api.GET('/api/collections/gadgets/nothing');
  // @ts-expect-error a value outside the select's options
  await api.POST('/api/collections/gadgets/records', { body: { title: 'Lamp', size: 'xl' } });
  // @ts-expect-error a hidden field is never answered
  void data?.secret;
  void [title, total, err];
}
`);
      writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
        compilerOptions: { strict: true, noEmit: true, target: 'es2022', module: 'esnext', moduleResolution: 'bundler', skipLibCheck: true, lib: ['es2022', 'dom'], types: [] },
        files: ['client.ts'],
      }));
      const tsc = spawnSync(process.execPath, [join(import.meta.dirname, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir], { encoding: 'utf8' });
      assert.equal(tsc.status, 0, `${tsc.stdout}${tsc.stderr}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('schemathesis finds no server error and no answer that breaks the document', { timeout: 300_000 }, async () => {
    // every operation but those that would end the run: a restore, a truncate, a collection or the
    // settings changed or deleted wholesale, the superuser's own account, the event stream
    const skip = '/api/backups/.*/restore|/api/realtime$|/api/settings$|/api/collections/\\{collection\\}$|/api/collections/import|truncate|_superusers';
    // (in a folder of its own: schemathesis keeps state in .schemathesis/ where it runs)
    const cwd = mkdtempSync(join(tmpdir(), 'kiln-schemathesis-'));
    const r = spawnSync('python3', [
      '-m', 'schemathesis.cli', 'run', `${server.url}/api/openapi.json`,
      '--checks', 'not_a_server_error,response_schema_conformance',
      '--phases', 'examples,coverage,fuzzing', '--max-examples', '10', '--seed', '1',
      '-H', `Authorization: ${su.authStore.token}`, '--exclude-path-regex', skip,
    ], { encoding: 'utf8', timeout: 280_000, cwd });
    rmSync(cwd, { recursive: true, force: true });
    assert.equal(r.status, 0, `${r.stdout}${r.stderr}`.slice(-6000));
  });

  it('serves Swagger UI at /api/docs under its own CSP', async () => {
    const page = await get('/api/docs');
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type'), /text\/html/);
    assert.match(page.headers.get('content-security-policy'), /script-src 'self'/);
    const refs = [...page.body.matchAll(/(?:src|href)="(\/api\/docs\/[^"]+)"/g)].map((m) => m[1]);
    assert.ok(refs.some((r) => r.endsWith('.js')) && refs.some((r) => r.endsWith('.css')), page.body);
    for (const r of refs) {
      const res = await fetch(server.url + r);
      assert.equal(res.status, 200, r);
    }
    assert.equal((await get('/api/docs/index.html')).status, 404, "the dashboard's own files are not served here");
  });
});
