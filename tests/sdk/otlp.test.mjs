// Traces over OTLP/HTTP (`kiln serve --otlp URL`), received by a collector built on OpenTelemetry's
// own protobuf definitions (services/otlp_receiver.py, PyPI opentelemetry-proto): a request carrying
// a W3C traceparent gets a server span in that trace, child of the caller's span, named by its route,
// with the database calls beneath it; a request without one starts a trace of its own.
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { startServer } from './server.mjs';
import { newSuperuser, suite } from './helpers.mjs';

const RECEIVER = fileURLToPath(new URL('./services/otlp_receiver.py', import.meta.url));
const haveProto = spawnSync('python3', ['-c', 'import opentelemetry.proto']).status === 0;
const skip = haveProto ? false : 'needs PyPI opentelemetry-proto';
const { it, failed } = suite(60_000);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let receiver;
let receiverUrl;
let server;

before(async () => {
  if (skip) return;
  receiver = spawn('python3', [RECEIVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [port] = await new Promise((ok) => createInterface({ input: receiver.stdout }).once('line', (l) => ok([l])));
  receiverUrl = `http://127.0.0.1:${port}`;
  server = await startServer({ serveArgs: ['--otlp', receiverUrl] });
});

after(async () => {
  if (skip) return;
  await server?.stop({ keep: failed() });
  if (failed()) console.error(server?.logs());
  receiver?.kill();
});

async function spans(pred, ms = 15_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const all = await (await fetch(`${receiverUrl}/spans`)).json();
    if (pred(all)) return all;
    if (Date.now() > deadline) throw new Error(`spans not received: ${JSON.stringify(all.map((s) => s.name))}`);
    await sleep(200);
  }
}

it('a request with a traceparent is a server span in that trace, its database calls beneath it', { skip }, async () => {
  const su = await newSuperuser(server.url);
  await su.collections.create({ name: 'notes', type: 'base', listRule: '', viewRule: '', createRule: '', fields: [{ name: 'title', type: 'text' }] });
  const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
  const parentId = '00f067aa0ba902b7';
  const res = await fetch(`${server.url}/api/collections/notes/records`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', traceparent: `00-${traceId}-${parentId}-01`, 'x-request-id': 'req-7f3a' },
    body: JSON.stringify({ title: 'traced' }),
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('x-request-id'), 'req-7f3a', 'the request id comes back');
  const all = await spans((s) => s.some((x) => x.traceId === traceId && x.attributes['http.response.status_code'] === 200));
  const request = all.find((x) => x.traceId === traceId && x.attributes['http.request.method'] === 'POST');
  assert.equal(request.parentSpanId, parentId, 'child of the caller\'s span');
  assert.equal(request.name, 'POST /api/collections/{collection}/records');
  assert.equal(request.kind, 2, 'SPAN_KIND_SERVER');
  assert.equal(request.attributes['http.route'], '/api/collections/{collection}/records');
  assert.equal(request.attributes['url.path'], '/api/collections/notes/records');
  assert.equal(request.resource['service.name'], 'kiln');
  assert.equal(request.attributes['request.id'], 'req-7f3a');
  // the same id in the request log
  let logs;
  for (let i = 0; i < 50; i++) {
    logs = await su.logs.getList(1, 1, { filter: 'data.requestId = "req-7f3a"' });
    if (logs.totalItems) break;
    await sleep(100);
  }
  assert.equal(logs.totalItems, 1);
  assert.equal(logs.items[0].data.url, '/api/collections/notes/records');
  const beneath = all.filter((x) => x.parentSpanId === request.spanId);
  assert.ok(beneath.some((x) => x.name === 'db.write'), `a database write beneath: ${JSON.stringify(beneath.map((x) => x.name))}`);
  for (const child of beneath) {
    assert.equal(child.traceId, traceId);
    assert.ok(child.start >= request.start && child.end <= request.end, `${child.name} within the request`);
    assert.ok(['sqlite', 'postgresql'].includes(child.attributes['db.system']));
  }
});

it('a request without a traceparent starts a trace of its own; reads show as db.read', { skip }, async () => {
  const before = (await (await fetch(`${receiverUrl}/spans`)).json()).length;
  const res = await fetch(`${server.url}/api/collections/notes/records?perPage=1`);
  assert.equal(res.status, 200);
  const all = await spans((s) => s.slice(before).some((x) => x.attributes['http.request.method'] === 'GET' && x.attributes['url.path'] === '/api/collections/notes/records'));
  const request = all.slice(before).find((x) => x.attributes['url.path'] === '/api/collections/notes/records');
  assert.equal(request.parentSpanId, '', 'a root span');
  assert.match(request.traceId, /^[0-9a-f]{32}$/);
  assert.ok(all.some((x) => x.parentSpanId === request.spanId && x.name === 'db.read'));
});
