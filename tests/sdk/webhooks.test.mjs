// Inbound webhooks, as a payment flow needs them: Stripe-signed events made with the `stripe`
// package's test-header helper and Standard Webhooks messages signed with the `standardwebhooks`
// package reach POST /api/webhooks/{name}; a good delivery is recorded once and its job (a jobAdd
// handler) marks the order paid; a duplicate delivery is acknowledged and changes nothing; a wrong
// secret, an old timestamp and a replay of an old delivery are refused; secrets rotate (two at once).
// Run on SQLite and PostgreSQL (scripts/test).
import { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Stripe from 'stripe';
import { Webhook } from 'standardwebhooks';
import { startServer } from './server.mjs';
import { newSuperuser, stopServer, suite } from './helpers.mjs';

const { it, failed } = suite(60_000);
const stripe = new Stripe('sk_test_not_used'); // only its signing helper runs: no network
const STRIPE_SECRET = 'whsec_stripe_test_secret_1';
const STRIPE_NEXT = 'whsec_stripe_test_secret_2';
const STANDARD_SECRET = `whsec_${Buffer.from('0123456789abcdef0123456789abcdef').toString('base64')}`;

// the checkout's job: a completed session pays its order, once
const HOOKS = `
jobAdd("payments", (e) => {
  const ev = e.job.payload.event;
  if (ev.type !== "checkout.session.completed") return;
  const order = $app.findRecordById("orders", ev.data.object.metadata.order);
  order.set("paid", true);
  order.set("payments", order.getInt("payments") + 1);
  $app.save(order);
});
jobAdd("notices", (e) => {
  const r = new Record($app.findCollectionByNameOrId("notices"));
  r.set("msg", e.job.payload.id + " " + e.job.payload.event.text);
  $app.save(r);
});
`;

describe('inbound webhooks', () => {
  let server;
  let su;
  let hooksDir;

  const post = async (name, body, headers) => {
    const res = await fetch(`${server.url}/api/webhooks/${name}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
    return { status: res.status, body: await res.json() };
  };
  const stripeEvent = (id, order) => JSON.stringify({ id, object: 'event', type: 'checkout.session.completed', data: { object: { id: `cs_${id}`, metadata: { order } } } });
  const stripeHeader = (payload, secret = STRIPE_SECRET, timestamp) => ({ 'stripe-signature': stripe.webhooks.generateTestHeaderString({ payload, secret, ...(timestamp ? { timestamp } : {}) }) });
  async function waitFor(pred, what) {
    const deadline = Date.now() + 10_000;
    while (!(await pred())) {
      assert.ok(Date.now() < deadline, `timed out: ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  before(async () => {
    hooksDir = mkdtempSync(join(tmpdir(), 'kiln-webhooks-hooks-'));
    writeFileSync(join(hooksDir, 'payments.pb.js'), HOOKS);
    server = await startServer({ serveArgs: ['--hooksDir', hooksDir] });
    su = await newSuperuser(server.url);
    await su.collections.create({ name: 'orders', type: 'base', fields: [{ name: 'ref', type: 'text' }, { name: 'paid', type: 'bool' }, { name: 'payments', type: 'number' }] });
    await su.collections.create({ name: 'notices', type: 'base', fields: [{ name: 'msg', type: 'text' }] });
    await su.settings.update({
      webhooks: {
        inbound: [
          { name: 'stripe', scheme: 'stripe', secrets: [STRIPE_SECRET], tolerance: 300, job: 'payments' },
          { name: 'partner', scheme: 'standard', secrets: [STANDARD_SECRET], job: 'notices' },
        ],
      },
    });
  });

  after(async () => {
    await stopServer(server, failed());
    rmSync(hooksDir, { recursive: true, force: true });
  });

  it('the settings never show the secrets, and keep them when an endpoint is sent back without', async () => {
    const s = await su.settings.getAll();
    assert.deepEqual(s.webhooks.inbound.map((w) => [w.name, w.scheme, w.job, 'secrets' in w]), [['stripe', 'stripe', 'payments', false], ['partner', 'standard', 'notices', false]]);
    // an edit of the list as read (no secrets) keeps each endpoint's secrets; an endpoint sent
    // with only some keys keeps the others
    await su.settings.update({ webhooks: { inbound: s.webhooks.inbound.map((w) => ({ ...w, tolerance: 300 })) } });
    await su.settings.update({ webhooks: { inbound: [{ name: 'stripe', tolerance: 600 }, { name: 'partner' }] } });
    const partial = (await su.settings.getAll()).webhooks.inbound;
    assert.deepEqual(partial.map((w) => [w.name, w.scheme, w.job, w.tolerance]), [['stripe', 'stripe', 'payments', 600], ['partner', 'standard', 'notices', 300]]);
    const badJob = await su.settings.update({ webhooks: { inbound: [{ name: 'stripe', job: 'no spaces' }, { name: 'partner' }] } }).catch((e) => e);
    assert.equal(badJob.status, 400);
    assert.ok(badJob.response.data.webhooks.inbound['0'].job);
    const bad = await su.settings.update({ webhooks: { inbound: [{ name: 'x y', scheme: 'other', secrets: [] }] } }).catch((e) => e);
    assert.equal(bad.status, 400);
    assert.deepEqual(Object.keys(bad.response.data.webhooks.inbound['0']).sort(), ['name', 'scheme', 'secrets']);
  });

  it('a Stripe event marks its order paid exactly once, however often it is delivered', async () => {
    const order = await su.collection('orders').create({ ref: 'A-1', payments: 0 });
    const payload = stripeEvent('evt_1', order.id);
    const first = await post('stripe', payload, stripeHeader(payload));
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.deepEqual(first.body, { received: true, id: 'evt_1' });
    await waitFor(async () => (await su.collection('orders').getOne(order.id)).paid, 'the order is paid');
    // Stripe retries: the same event, newly signed, a few times (and at once)
    const again = await Promise.all([1, 2, 3].map(() => post('stripe', payload, stripeHeader(payload))));
    for (const a of again) assert.deepEqual(a.body, { received: true, id: 'evt_1', duplicate: true });
    await new Promise((r) => setTimeout(r, 500));
    assert.equal((await su.collection('orders').getOne(order.id)).payments, 1);
  });

  it('a wrong secret, an old timestamp, a replayed delivery and a tampered body are refused', async () => {
    const order = await su.collection('orders').create({ ref: 'B-1', payments: 0 });
    const payload = stripeEvent('evt_2', order.id);
    const wrong = await post('stripe', payload, stripeHeader(payload, 'whsec_not_ours'));
    assert.equal(wrong.status, 400);
    assert.match(wrong.body.message, /signature/);
    const old = await post('stripe', payload, stripeHeader(payload, STRIPE_SECRET, Math.floor(Date.now() / 1000) - 3600));
    assert.equal(old.status, 400);
    assert.match(old.body.message, /timestamp/);
    const tampered = await post('stripe', payload.replace('evt_2', 'evt_3'), stripeHeader(payload));
    assert.equal(tampered.status, 400);
    const missing = await post('stripe', payload, {});
    assert.equal(missing.status, 400);
    assert.equal((await post('nosuch', payload, stripeHeader(payload))).status, 404);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await su.collection('orders').getOne(order.id)).paid, false, 'nothing refused was processed');
  });

  it('during a rotation both secrets are taken', async () => {
    await su.settings.update({ webhooks: { inbound: [
      { name: 'stripe', scheme: 'stripe', secrets: [STRIPE_SECRET, STRIPE_NEXT], tolerance: 300, job: 'payments' },
      { name: 'partner', scheme: 'standard', job: 'notices' },
    ] } });
    // two orders: the two jobs may run at once
    const order = await su.collection('orders').create({ ref: 'C-1', payments: 0 });
    const other = await su.collection('orders').create({ ref: 'C-2', payments: 0 });
    const payload = stripeEvent('evt_4', order.id);
    assert.equal((await post('stripe', payload, stripeHeader(payload, STRIPE_NEXT))).status, 200);
    const p5 = stripeEvent('evt_5', other.id);
    assert.equal((await post('stripe', p5, stripeHeader(p5, STRIPE_SECRET))).status, 200);
    await waitFor(async () => (await su.collection('orders').getFullList({ filter: 'ref ~ "C-" && payments = 1' })).length === 2, 'both events processed');
  });

  it('Standard Webhooks messages are checked and recorded once by their id', async () => {
    const wh = new Webhook(STANDARD_SECRET);
    const payload = JSON.stringify({ type: 'notice', text: 'hello' });
    const sign = (id, at = new Date()) => ({ 'webhook-id': id, 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': wh.sign(id, at, payload) });
    const ok = await post('partner', payload, sign('msg_1'));
    assert.deepEqual(ok.body, { received: true, id: 'msg_1' });
    assert.equal((await post('partner', payload, sign('msg_1'))).body.duplicate, true);
    const stale = await post('partner', payload, sign('msg_2', new Date(Date.now() - 3600_000)));
    assert.equal(stale.status, 400);
    const forged = sign('msg_3');
    forged['webhook-id'] = 'msg_4';
    assert.equal((await post('partner', payload, forged)).status, 400);
    await waitFor(async () => (await su.collection('notices').getFullList()).length === 1, 'the notice');
    assert.deepEqual((await su.collection('notices').getFullList()).map((n) => n.msg), ['msg_1 hello']);
  });
});
