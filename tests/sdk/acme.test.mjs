// Automatic HTTPS against a real ACME CA on loopback (pebble, services/pebble.mjs): `kiln serve
// kiln.test --https …` obtains a certificate with TLS-ALPN-01 or HTTP-01, serves it over HTTP/2
// and HTTP/1.1, redirects plain HTTP, renews before expiry; while the CA cannot be reached it logs,
// retries and keeps serving plain HTTP; on PostgreSQL, two nodes share one certificate.
import { after } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { connect as http2Connect } from 'node:http2';
import { connect as tlsConnect } from 'node:tls';
import WebSocket from 'ws';
import { freePort, startServer } from './server.mjs';
import { createPebble, havePebble, startPebble } from './services/pebble.mjs';
import { suite } from './helpers.mjs';

const DOMAIN = 'kiln.test';
const PG = process.env.KILN_TEST_DATABASE_URL;
const skip = havePebble() ? false : 'needs pebble and openssl (Debian packages)';
const { it, failed } = suite(180_000);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Waits (up to 10 s) until the server's log has `count` lines matching `re` (a /g pattern). */
async function logged(server, re, count, ms = 10_000) {
  const deadline = Date.now() + ms;
  while ((server.logs().match(re)?.length ?? 0) < count) {
    assert.ok(Date.now() < deadline, `fewer than ${count} ${re} in:\n${server.logs()}`);
    await sleep(100);
  }
}
const cleanups = [];

after(async () => {
  for (const c of cleanups.reverse()) await c(failed());
});

/** A TLS handshake with the server on `port` as `DOMAIN`: { cert, alpn, authorized, error }. */
function handshake(port, ca, alpn = ['h2', 'http/1.1']) {
  return new Promise((ok) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, servername: DOMAIN, ca, ALPNProtocols: alpn, rejectUnauthorized: false });
    socket.setTimeout(5_000, () => socket.destroy(new Error('timed out')));
    socket.once('secureConnect', () => {
      const cert = socket.getPeerCertificate();
      ok({ cert, alpn: socket.alpnProtocol, authorized: socket.authorized, error: socket.authorizationError });
      socket.end();
    });
    socket.once('error', (error) => ok({ error }));
  });
}

/** Waits until the server on `port` presents a certificate that `accept` takes; returns it. */
async function certificate(port, ca, accept = () => true, ms = 60_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const h = await handshake(port, ca);
    if (h.cert?.serialNumber && accept(h.cert)) return h;
    if (Date.now() > deadline) throw new Error(`no certificate on :${port} within ${ms} ms (last: ${h.error ?? h.cert?.serialNumber})`);
    await sleep(250);
  }
}

/** A plain-HTTP request to 127.0.0.1:`port` naming `host`: { status, headers, body }. */
function plain(port, path, { method = 'GET', host = DOMAIN } = {}) {
  return new Promise((ok, fail) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, method, headers: { host } }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => ok({ status: res.statusCode, headers: res.headers, body }));
    });
    req.on('error', fail);
    req.end();
  });
}

/** GET `path` over HTTP/2 from the server on `port`: { status, body }. */
function http2Get(port, ca, path) {
  return new Promise((ok, fail) => {
    const session = http2Connect(`https://${DOMAIN}:${port}`, {
      createConnection: () => tlsConnect({ host: '127.0.0.1', port, servername: DOMAIN, ca, ALPNProtocols: ['h2'] }),
    });
    session.on('error', fail);
    const req = session.request({ ':path': path });
    let status;
    let body = '';
    req.on('response', (h) => { status = h[':status']; });
    req.setEncoding('utf8');
    req.on('data', (d) => { body += d; });
    req.on('end', () => { session.close(); ok({ status, body }); });
    req.on('error', fail);
    req.end();
  });
}

async function serveWithAcme(pebble, { httpPort, tlsPort, challenge, env }) {
  const server = await startServer({
    port: httpPort,
    env,
    serveArgs: [DOMAIN, '--https', `127.0.0.1:${tlsPort}`, '--acme-directory', pebble.directory,
      '--acme-ca-root', pebble.caRoot, '--acme-email', 'ops@kiln.test', '--acme-challenge', challenge],
  });
  cleanups.push(async (keep) => { if (keep) console.error(server.logs()); await server.stop({ keep }); });
  return server;
}

it('TLS-ALPN-01: a certificate is issued, served over HTTP/2, plain HTTP redirects, and it is renewed before expiry', { skip }, async () => {
  const [httpPort, tlsPort] = [await freePort(), await freePort()];
  // 45 s certificates: renewed two thirds in, after 30 s
  const pebble = await startPebble({ httpPort, tlsPort, validitySeconds: 45 });
  cleanups.push(async (keep) => { if (keep) console.error(pebble.logs()); await pebble.stop(); });
  const server = await serveWithAcme(pebble, { httpPort, tlsPort, challenge: 'tls-alpn-01' });
  const ca = await pebble.issuerRoots();
  const first = await certificate(tlsPort, ca);
  assert.equal(first.authorized, true, `chains to pebble's root: ${first.error}`);
  assert.match(first.cert.subjectaltname, /DNS:kiln\.test/);
  assert.equal(first.alpn, 'h2');
  assert.equal((await handshake(tlsPort, ca, ['http/1.1'])).alpn, 'http/1.1');

  const h2 = await http2Get(tlsPort, ca, '/api/health');
  assert.equal(h2.status, 200, h2.body);
  assert.equal(JSON.parse(h2.body).code, 200);
  // realtime over HTTPS: a WebSocket (HTTP/1.1 upgrade) gets its PB_CONNECT
  const ws = new WebSocket(`wss://${DOMAIN}:${tlsPort}/api/realtime/ws`, {
    ca, servername: DOMAIN, createConnection: (o) => tlsConnect({ ...o, host: '127.0.0.1', port: tlsPort, servername: DOMAIN, ca }),
  });
  const hello = await new Promise((ok, fail) => { ws.once('message', (m) => ok(JSON.parse(m))); ws.once('error', fail); });
  ws.close();
  assert.equal(hello.event, 'PB_CONNECT');

  const redirect = await plain(httpPort, '/api/collections?page=2');
  assert.equal(redirect.status, 302);
  assert.equal(redirect.headers.location, `https://${DOMAIN}:${tlsPort}/api/collections?page=2`);
  // never to another site's name
  const foreign = await plain(httpPort, '/x', { host: 'evil.example' });
  assert.equal(foreign.headers.location, `https://${DOMAIN}:${tlsPort}/x`);
  // health probes still answered on plain HTTP
  assert.equal((await plain(httpPort, '/api/health')).status, 200);
  const post = await plain(httpPort, '/api/collections/users/records', { method: 'POST' });
  assert.equal(post.status, 400);
  assert.equal(JSON.parse(post.body).message, 'Use HTTPS.');

  const started = Date.now();
  const renewed = await certificate(tlsPort, ca, (c) => c.serialNumber !== first.cert.serialNumber, 60_000);
  assert.equal(renewed.authorized, true);
  const validTo = (c) => Date.parse(c.valid_to);
  assert.ok(validTo(renewed.cert) > validTo(first.cert), 'the new certificate ends later');
  // renewed before the first one expired
  assert.ok(Date.now() < validTo(first.cert), `renewed ${Date.now() - started} ms after the check began`);
  // the certificate is served before it is stored and logged: wait for the line
  await logged(server, /obtained a certificate/g, 2);
});

it('HTTP-01: while the CA is unreachable the failure is logged and retried and plain HTTP serves the app; then the certificate comes', { skip }, async () => {
  const [httpPort, tlsPort] = [await freePort(), await freePort()];
  const pebble = await createPebble({ httpPort, tlsPort });
  cleanups.push(async (keep) => { if (keep) console.error(pebble.logs()); await pebble.stop(); });
  const server = await serveWithAcme(pebble, { httpPort, tlsPort, challenge: 'http-01' });
  const deadline = Date.now() + 10_000;
  while (!/cannot get a certificate/.test(server.logs())) {
    assert.ok(Date.now() < deadline, `no failure logged:\n${server.logs()}`);
    await sleep(100);
  }
  assert.match(server.logs(), /retry_in_secs=10/);
  // no certificate yet: the app answers on plain HTTP, and TLS handshakes fail
  const health = await plain(httpPort, '/api/health');
  assert.equal(health.status, 200, health.body);
  assert.ok((await handshake(tlsPort, [])).error, 'no certificate to present yet');

  await pebble.start();
  const ca = await pebble.issuerRoots();
  const served = await certificate(tlsPort, ca, () => true, 40_000);
  assert.equal(served.authorized, true, String(served.error));
  assert.equal((await plain(httpPort, '/api/collections')).status, 302);
  await logged(server, /obtained a certificate/g, 1);
});

it('two nodes on one PostgreSQL database share one certificate: one orders, both serve it', { skip: skip || (!PG && 'needs KILN_TEST_DATABASE_URL (PostgreSQL)') }, async () => {
  // the CA reaches only the first node; the second may be the one that orders: the first answers
  // the challenge from the database
  const ports = [await freePort(), await freePort(), await freePort(), await freePort()];
  const pebble = await startPebble({ httpPort: ports[0], tlsPort: ports[1] });
  cleanups.push(async (keep) => { if (keep) console.error(pebble.logs()); await pebble.stop(); });
  const env = { KILN_DATABASE_SCHEMA: `kiln_acme_${process.pid}` };
  const nodes = [
    await serveWithAcme(pebble, { httpPort: ports[0], tlsPort: ports[1], challenge: 'tls-alpn-01', env }),
    await serveWithAcme(pebble, { httpPort: ports[2], tlsPort: ports[3], challenge: 'tls-alpn-01', env }),
  ];
  const ca = await pebble.issuerRoots();
  const a = await certificate(ports[1], ca);
  const b = await certificate(ports[3], ca, () => true, 20_000);
  assert.equal(a.authorized && b.authorized, true);
  assert.equal(a.cert.serialNumber, b.cert.serialNumber, 'the same certificate on both nodes');
  const orders = nodes.map((n) => n.logs().match(/ordering a certificate/g)?.length ?? 0);
  assert.deepEqual(orders.sort(), [0, 1], `one order in all: ${orders}`);
});
