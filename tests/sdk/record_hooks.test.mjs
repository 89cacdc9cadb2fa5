// Record hooks (pb_hooks): a small shop whose rules live in JavaScript — validation and derived
// values in the request and model hooks, an audit trail written by after-success hooks through
// `$app.save`, guarded updates and deletes, custom routes that find and save records. The same
// files and requests against PocketBase 0.40.6 and Kiln give the same answers; and what only Kiln
// promises: a hook that throws after its write rolls the write back, and the pool never
// deadlocks on hooks that write inside a write.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import PocketBase from 'pocketbase';
import { startServer, SUPERUSER, pocketbaseBin } from './server.mjs';


const HOOKS = String.raw`
// validation and normalisation before the write
onRecordCreateRequest((e) => {
  const qty = e.record.getInt("qty");
  if (qty <= 0) {
    throw new BadRequestError("Invalid order.", { qty: new ValidationError("order_qty", "Order at least one.") });
  }
  if (e.record.getString("sku") === "custom") {
    return e.json(202, { queued: true, sku: e.record.get("sku") });
  }
  e.record.set("status", "new"); // guests cannot set it themselves
  e.record.set("sku", e.record.getString("sku").toUpperCase());
  e.next();
}, "orders");

// derived values inside the write
onRecordCreate((e) => {
  e.record.set("total", e.record.getInt("qty") * e.record.getFloat("price"));
  e.next();
}, "orders");
onRecordUpdate((e) => {
  e.record.set("total", e.record.getInt("qty") * e.record.getFloat("price"));
  e.next();
}, "orders");

// an audit trail
onRecordAfterCreateSuccess((e) => {
  const a = new Record($app.findCollectionByNameOrId("audit"));
  a.set("msg", "created " + e.record.id + " " + e.record.getString("sku") + " " + e.record.getFloat("total"));
  $app.save(a);
  e.next();
}, "orders");
onRecordAfterUpdateSuccess((e) => {
  const a = new Record($app.findCollectionByNameOrId("audit"));
  a.set("msg", "updated " + e.record.id + " " + e.record.original().getString("status") + ">" + e.record.getString("status"));
  $app.save(a);
  e.next();
}, "orders");

// only superusers move an order on; a paid order stays
onRecordUpdateRequest((e) => {
  if (e.record.getString("status") !== e.record.original().getString("status") && !e.hasSuperuserAuth()) {
    throw new ForbiddenError("Only staff may change the status.");
  }
  e.next();
}, "orders");
onRecordDeleteRequest((e) => {
  if (e.record.getString("status") === "paid") {
    throw new BadRequestError("Paid orders are kept.");
  }
  e.next();
}, "orders");
onRecordDelete((e) => {
  const id = e.record.id;
  e.next();
  const a = new Record($app.findCollectionByNameOrId("audit"));
  a.set("msg", "deleted " + id);
  $app.save(a);
}, "orders");

// what the API shows: a label computed for every answer, the price hidden from guests, paid
// orders for staff only, and a summary instead of the list on request
onRecordEnrich((e) => {
  if (!e.requestInfo.auth) e.record.hide("price");
  e.record.withCustomData(true);
  e.record.set("label", e.record.getString("sku") + " x" + e.record.getInt("qty"));
  e.next();
}, "orders");
onRecordViewRequest((e) => {
  if (e.record.getString("status") === "paid" && !e.hasSuperuserAuth()) throw new NotFoundError();
  e.next();
}, "orders");
onRecordsListRequest((e) => {
  if (e.requestInfo().query.summary === "1") {
    return e.json(200, { count: e.records.length, total: e.result.totalItems, first: e.records[0]?.id ?? null });
  }
  e.next();
}, "orders");

// a job, run every five minutes (and on demand through the crons API)
cronAdd("shopTick", "*/5 * * * *", () => {
  const a = new Record($app.findCollectionByNameOrId("audit"));
  a.set("msg", "tick " + $app.countRecords("orders"));
  $app.save(a);
});
cronAdd("dropped", "0 0 * * *", () => {});
cronRemove("dropped");
routerAdd("POST", "/api/shop/schedule", (e) => {
  cronAdd("nightly", "0 3 * * *", () => {});
  return e.noContent(204);
}, $apis.requireSuperuserAuth());

// a pair of orders in one transaction: both or neither
routerAdd("POST", "/api/shop/pair", (e) => {
  const body = e.requestInfo().body;
  try {
    $app.runInTransaction((txApp) => {
      for (const sku of body.skus) {
        const o = new Record(txApp.findCollectionByNameOrId("orders"));
        o.set("id", ("pair" + sku.toLowerCase() + "000000000000000").slice(0, 15));
        o.set("sku", sku);
        o.set("qty", 1);
        o.set("price", 1);
        txApp.save(o);
      }
      if (body.fail) throw new BadRequestError("No pair today.");
    });
  } catch (err) {
    return e.json(409, { failed: true });
  }
  return e.json(200, { count: $app.findRecordsByFilter("orders", "sku ~ 'P'").length });
});

routerAdd("GET", "/api/shop/audit", (e) => {
  const rows = $app.findRecordsByFilter("audit", "msg != ''", "msg", 0, 0);
  return e.json(200, rows.map((r) => r.getString("msg")));
});
routerAdd("GET", "/api/shop/order/{sku}", (e) => {
  const o = $app.findFirstRecordByFilter("orders", "sku = {:sku}", { sku: e.request.pathValue("sku") });
  return e.json(200, { id: o.id, total: o.getFloat("total"), status: o.get("status") });
});
routerAdd("POST", "/api/shop/restock", (e) => {
  const body = e.requestInfo().body;
  const o = new Record($app.findCollectionByNameOrId("orders"));
  o.set("id", body.id);
  o.set("sku", body.sku);
  o.set("qty", body.qty);
  o.set("price", 1.5);
  $app.save(o);
  return e.json(200, o);
});
routerAdd("POST", "/api/shop/pay/{id}", (e) => {
  const o = $app.findRecordById("orders", e.request.pathValue("id"));
  o.set("status", "paid");
  $app.save(o);
  return e.json(200, { status: o.get("status"), total: o.get("total") });
}, $apis.requireSuperuserAuth());
`;

// [method, path, as ('' guest, 'su'), body]
const CASES = [
  ['POST', '/api/collections/orders/records', '', { id: 'o00000000000001', sku: 'tea', qty: 0, price: 2 }],
  ['POST', '/api/collections/orders/records', '', { id: 'o00000000000001', sku: 'tea', qty: 3, price: 2, status: 'paid' }],
  ['POST', '/api/collections/orders/records', '', { id: 'o00000000000002', sku: 'custom', qty: 1, price: 2 }],
  ['POST', '/api/collections/orders/records', '', { id: 'o00000000000003', sku: 'cake', qty: 2, price: 4.25 }],
  ['GET', '/api/collections/orders/records?sort=id', ''],
  ['GET', '/api/collections/orders/records?sort=id', 'su'],
  ['GET', '/api/collections/orders/records?sort=-id&summary=1', ''],
  ['GET', '/api/collections/orders/records/o00000000000001?fields=id,label,total', ''],
  ['PATCH', '/api/collections/orders/records/o00000000000001', '', { qty: 5 }],
  ['PATCH', '/api/collections/orders/records/o00000000000001', '', { status: 'paid' }],
  ['POST', '/api/shop/pay/o00000000000001', ''],
  ['POST', '/api/shop/pay/o00000000000001', 'su'],
  ['GET', '/api/collections/orders/records/o00000000000001', ''],
  ['GET', '/api/collections/orders/records/o00000000000001', 'su'],
  ['GET', '/api/shop/order/TEA', ''],
  ['GET', '/api/shop/order/nope', ''],
  ['DELETE', '/api/collections/orders/records/o00000000000001', ''],
  ['DELETE', '/api/collections/orders/records/o00000000000003', ''],
  ['DELETE', '/api/collections/orders/records/o00000000000003', ''],
  ['POST', '/api/shop/restock', '', { id: 'o00000000000004', sku: 'JAM', qty: 4 }],
  ['POST', '/api/shop/restock', '', { id: 'o00000000000004', sku: 'JAM', qty: 4 }],
  ['POST', '/api/batch', '', { requests: [
    { method: 'POST', url: '/api/collections/orders/records', body: { id: 'o00000000000005', sku: 'pie', qty: 2, price: 3 } },
    { method: 'PATCH', url: '/api/collections/orders/records/o00000000000004', body: { qty: 1 } },
  ] }],
  ['POST', '/api/batch', '', { requests: [
    { method: 'POST', url: '/api/collections/orders/records', body: { id: 'o00000000000006', sku: 'bun', qty: 1, price: 1 } },
    { method: 'POST', url: '/api/collections/orders/records', body: { id: 'o00000000000007', sku: 'bad', qty: 0, price: 1 } },
  ] }],
  ['POST', '/api/batch', '', { requests: [
    { method: 'PATCH', url: '/api/collections/orders/records/o00000000000005', body: { status: 'paid' } },
  ] }],
  ['POST', '/api/batch', '', { requests: [
    { method: 'DELETE', url: '/api/collections/orders/records/o00000000000001' },
  ] }],
  ['POST', '/api/batch', '', { requests: [
    { method: 'DELETE', url: '/api/collections/orders/records/o00000000000005' },
  ] }],
  ['GET', '/api/crons', 'su'],
  ['POST', '/api/shop/schedule', 'su'],
  ['GET', '/api/crons', 'su'],
  ['POST', '/api/crons/shopTick', 'su'],
  ['POST', '/api/shop/pair', '', { skus: ['F1', 'F2'], fail: true }],
  ['POST', '/api/shop/pair', '', { skus: ['P1', 'P2'] }],
  ['GET', '/api/collections/orders/records?sort=id', ''],
  ['GET', '/api/shop/audit', ''],
];

async function serve(bin) {
  const hooks = mkdtempSync(join(tmpdir(), 'kiln-hooks-'));
  writeFileSync(join(hooks, 'shop.pb.js'), HOOKS);
  const server = await startServer({ bin, serveArgs: ['--hooksDir', hooks] });
  const pb = new PocketBase(server.url);
  await pb.collection('_superusers').authWithPassword(SUPERUSER.email, SUPERUSER.password);
  await pb.collections.create({
    name: 'orders',
    type: 'base',
    listRule: '',
    viewRule: '',
    createRule: '',
    updateRule: '',
    deleteRule: '',
    fields: [
      { name: 'sku', type: 'text', required: true },
      { name: 'qty', type: 'number' },
      { name: 'price', type: 'number' },
      { name: 'total', type: 'number' },
      { name: 'status', type: 'select', values: ['new', 'paid'], maxSelect: 1 },
    ],
  });
  await pb.collections.create({ name: 'audit', type: 'base', fields: [{ name: 'msg', type: 'text' }] });
  await pb.settings.update({ batch: { enabled: true, maxRequests: 50, timeout: 3, maxBodySize: 0 } });
  const tokens = { '': '', su: pb.authStore.token };
  return {
    server,
    async answers(cases = CASES) {
      const out = [];
      for (const [method, path, as, body] of cases) {
        const headers = {};
        if (tokens[as]) headers.Authorization = tokens[as];
        if (body) headers['Content-Type'] = 'application/json';
        const res = await fetch(server.url + path, { method, headers, body: body ? JSON.stringify(body) : undefined });
        if (path.startsWith('/api/crons/')) await new Promise((r) => setTimeout(r, 500)); // the job runs in the background
        const text = await res.text();
        let parsed = text;
        try {
          parsed = JSON.parse(text);
        } catch {}
        out.push({ request: `${method} ${path} as ${as || 'guest'}`, status: res.status, body: parsed });
      }
      return out;
    },
    async stop() {
      await server.stop();
      rmSync(hooks, { recursive: true, force: true });
    },
  };
}

/** The audit lines without the cron job's: its schedule may fire during a run (see the test). */
const withoutTicks = (lines) => lines.filter((l) => !l.startsWith('tick '));

describe('pb_hooks record hooks', () => {
  let kiln;
  let ours;
  before(async () => {
    kiln = await serve();
    ours = await kiln.answers();
  });
  after(async () => kiln?.stop());

  it('run around the records API and in $app', () => {
    const by = (i) => ours[i];
    assert.deepEqual(by(0).body.data, { qty: { code: 'order_qty', message: 'Order at least one.' } });
    assert.deepEqual(by(1).body, { collectionId: by(1).body.collectionId, collectionName: 'orders', id: 'o00000000000001', sku: 'TEA', qty: 3, total: 6, status: 'new', label: 'TEA x3' }, 'enriched: a label, no price for a guest');
    assert.deepEqual([by(2).status, by(2).body], [202, { queued: true, sku: 'custom' }]);
    assert.equal(by(5).body.items[0].price, 2, 'a superuser sees the price');
    assert.deepEqual(by(6).body, { count: 2, total: 2, first: 'o00000000000003' });
    assert.deepEqual(by(7).body, { id: 'o00000000000001', label: 'TEA x3', total: 6 });
    assert.equal(by(8).body.total, 10, 'onRecordUpdate recomputes the total');
    assert.equal(by(9).status, 403);
    assert.deepEqual(by(11).body, { status: 'paid', total: 10 });
    assert.deepEqual([by(12).status, by(13).status], [404, 200], 'a paid order is for staff only');
    assert.equal(by(16).status, 400, 'a paid order stays');
    assert.equal(by(17).status, 204);
    assert.deepEqual(by(21).body[0].body.total, 6, 'a batch runs the request and model hooks of each write');
    assert.equal(by(22).status, 400, 'a request hook fails its batch');
    assert.equal(by(23).status, 400, 'a guest may not set the status inside a batch either');
    assert.deepEqual([by(24).status, by(25).status], [400, 200]);
    assert.deepEqual([by(30).status, by(31).body], [409, { count: 2 }], 'runInTransaction: both or neither');
    // The on-demand run wrote "tick 2"; a scheduled run may add its own line if the test crosses a
    // five-minute boundary, so the ticks are checked apart from the record lines.
    const lines = by(CASES.length - 1).body;
    assert.ok(lines.includes('tick 2'), 'the job ran on demand');
    assert.deepEqual(withoutTicks(lines), [
      'created o00000000000001 TEA 6', 'created o00000000000003 CAKE 8.5', 'created o00000000000004 JAM 6', 'created o00000000000005 PIE 6', 'created pairp1000000000 P1 1', 'created pairp2000000000 P2 1',
      'deleted o00000000000003', 'deleted o00000000000005',
      'updated o00000000000001 new>new', 'updated o00000000000001 new>paid', 'updated o00000000000004 >',
    ]);
    assert.deepEqual(by(28).body.filter((j) => !j.id.startsWith('__')), [{ id: 'nightly', expression: '0 3 * * *' }, { id: 'shopTick', expression: '*/5 * * * *' }]);
  });

  it('match PocketBase 0.40.6 running the same files', { skip: !pocketbaseBin() }, async () => {
    const pbs = await serve(pocketbaseBin());
    try {
      const theirs = await pbs.answers();
      for (let i = 0; i < CASES.length; i++) {
        const strip = (a) => JSON.parse(JSON.stringify(a).replace(/"collectionId":"[^"]+"/g, '"collectionId":"…"'));
        const [a, b] = i === CASES.length - 1
          ? [{ ...ours[i], body: withoutTicks(ours[i].body) }, { ...theirs[i], body: withoutTicks(theirs[i].body) }]
          : [ours[i], theirs[i]];
        assert.deepEqual(strip(a), strip(b), ours[i].request);
      }
    } finally {
      await pbs.stop();
    }
  });
});

const ONLY_KILN = String.raw`
onRecordCreate((e) => {
  const a = new Record($app.findCollectionByNameOrId("audit"));
  a.set("msg", "before " + e.record.getString("sku"));
  $app.save(a); // inside the order's transaction
  e.next();
  if (e.record.getString("sku") === "undo") throw new BadRequestError("Undone.");
  if (e.record.getString("sku") === "loop") while (true) {}
  if (e.record.getString("sku") === "hog") { const a = []; while (true) a.push("x".repeat(4096)); }
}, "orders");
onRecordCreate((e) => {
  // a hooked write inside a hooked write inside a route: one worker serves them all
  e.next();
  if (e.record.getString("msg").startsWith("before nest")) {
    const n = new Record($app.findCollectionByNameOrId("audit"));
    n.set("msg", "nested in " + e.record.getString("msg"));
    $app.save(n);
  }
}, "audit");
routerAdd("POST", "/api/orders-via-route", (e) => {
  const o = new Record($app.findCollectionByNameOrId("orders"));
  o.load(e.requestInfo().body);
  $app.save(o);
  return e.json(200, { id: o.id });
});
routerAdd("GET", "/api/audit", (e) => e.json(200, $app.findRecordsByFilter("audit", "", "msg").map((r) => r.getString("msg"))));
`;

describe('pb_hooks record hooks in Kiln', () => {
  let server;
  let hooks;
  before(async () => {
    hooks = mkdtempSync(join(tmpdir(), 'kiln-hooks-'));
    writeFileSync(join(hooks, 'only.pb.js'), ONLY_KILN);
    server = await startServer({ serveArgs: ['--hooksDir', hooks, '--hooksPool', '1', '--hooksTimeout', '1', '--hooksMemory', '32'] });
    const pb = new PocketBase(server.url);
    await pb.collection('_superusers').authWithPassword(SUPERUSER.email, SUPERUSER.password);
    await pb.collections.create({ name: 'orders', type: 'base', createRule: '', fields: [{ name: 'sku', type: 'text' }] });
    await pb.collections.create({ name: 'audit', type: 'base', fields: [{ name: 'msg', type: 'text' }] });
  });
  after(async () => {
    await server?.stop();
    rmSync(hooks, { recursive: true, force: true });
  });
  const post = (path, body) => fetch(server.url + path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  const audit = async () => (await fetch(server.url + '/api/audit')).json();

  it('a hook that throws after its write rolls back the write and every write of its hooks', async () => {
    const res = await post('/api/collections/orders/records', { sku: 'undo' });
    assert.deepEqual([res.status, await res.json()], [400, { data: {}, message: 'Undone.', status: 400 }]);
    assert.deepEqual(await audit(), []);
    assert.equal((await post('/api/collections/orders/records', { sku: 'kept' })).status, 200);
    assert.deepEqual(await audit(), ['before kept']);
  });

  it('writes nested three deep on a pool of one runtime do not deadlock', async () => {
    const res = await post('/api/orders-via-route', { sku: 'nest' });
    assert.equal(res.status, 200);
    assert.deepEqual(await audit(), ['before kept', 'before nest', 'nested in before nest']);
  });

  it('a hook out of time or memory inside a write ends that request, rolls back, and frees the writer', async () => {
    for (const sku of ['loop', 'hog']) {
      const res = await post('/api/collections/orders/records', { sku });
      assert.equal(res.status, 500, sku);
      assert.equal((await post('/api/collections/orders/records', { sku: `after-${sku}` })).status, 200, `a write after ${sku}`);
    }
    assert.deepEqual(await audit(), ['before after-hog', 'before after-loop', 'before kept', 'before nest', 'nested in before nest']);
  });
});
