// Stopping: on SIGTERM the server stops accepting connections, lets the requests in flight finish,
// ends realtime streams, writes its pending log lines and exits 0; `--log-format json` writes its
// log lines as JSON objects. Run on SQLite and PostgreSQL (scripts/test).
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from './server.mjs';
import { newSuperuser, suite } from './helpers.mjs';

const { it } = suite(60_000);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const HOOKS = `
routerAdd("GET", "/slow", (e) => {
  sleep(1500);
  return e.json(200, { done: true });
});
`;

describe('stopping', () => {
  it('SIGTERM: no new connections, the request in flight finishes, the log is written, exit 0', async () => {
    const hooksDir = mkdtempSync(join(tmpdir(), 'kiln-lifecycle-'));
    writeFileSync(join(hooksDir, 'slow.pb.js'), HOOKS);
    const server = await startServer({ serveArgs: ['--hooksDir', hooksDir] });
    let stopped;
    try {
      const events = [];
      const stream = fetch(`${server.url}/api/realtime`).then(async (res) => {
        const reader = res.body.getReader();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return 'ended';
          events.push(new TextDecoder().decode(value));
        }
      });
      const started = Date.now();
      const slow = fetch(`${server.url}/slow`).then(async (r) => ({ status: r.status, body: await r.json(), at: Date.now() - started }));
      await sleep(300);
      stopped = server.stop({ keep: true });
      await sleep(300);
      const t0 = Date.now();
      // a new connection (fetch might reuse a kept-alive one, which is still served for a moment)
      const port = Number(new URL(server.url).port);
      await assert.rejects(new Promise((ok, fail) => {
        const socket = connect(port, '127.0.0.1', () => { socket.destroy(); ok(); });
        socket.on('error', fail);
        socket.setTimeout(2000, () => socket.destroy(new Error('timed out')));
      }), /ECONNREFUSED/, 'no new connection once stopping');
      assert.ok(Date.now() - t0 < 1000, 'refused at once, not left waiting in the backlog');
      const answer = await slow;
      assert.deepEqual([answer.status, answer.body], [200, { done: true }], 'the request in flight finished');
      assert.ok(answer.at >= 1500);
      assert.equal(await stream, 'ended', 'the realtime stream ended');
      assert.ok(events.join('').includes('PB_CONNECT'));
      const exit = await stopped;
      assert.deepEqual(exit, { code: 0, signal: null });
      // the slow request is in the request log, written before the exit
      // (on PostgreSQL the same schema)
      const schema = server.env.KILN_DATABASE_SCHEMA;
      const again = await startServer({ dir: server.dir, serveArgs: ['--hooksDir', hooksDir], env: schema ? { KILN_DATABASE_SCHEMA: schema } : {} });
      try {
        const admin = await newSuperuser(again.url);
        const logs = await admin.logs.getList(1, 10, { filter: 'data.url = "/slow"' });
        assert.equal(logs.totalItems, 1);
        assert.equal(logs.items[0].data.status, 200);
      } finally {
        await again.stop();
      }
    } finally {
      await stopped;
      rmSync(server.root, { recursive: true, force: true });
      rmSync(hooksDir, { recursive: true, force: true });
    }
  });

  it('--log-format json writes one JSON object a line; a line written during a request names its X-Request-Id', async () => {
    const server = await startServer({ serveArgs: ['--log-format', 'json'] });
    const stderr = join(server.root, 'server.stderr.log');
    // a password reset email to an SMTP server that is not there: the server logs a warning while
    // it answers
    const su = await newSuperuser(server.url);
    await su.settings.update({ smtp: { enabled: true, host: '127.0.0.1', port: 9, username: '', password: '' } });
    await su.collection('users').create({ email: 'reset@example.com', password: 'secret-pass-1', passwordConfirm: 'secret-pass-1' });
    const res = await fetch(`${server.url}/api/collections/users/request-password-reset`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'req-42ab' },
      body: JSON.stringify({ email: 'reset@example.com' }),
    });
    assert.equal(res.headers.get('x-request-id'), 'req-42ab');
    await server.stop({ keep: true });
    try {
      const lines = readFileSync(stderr, 'utf8').split('\n').filter((l) => l.startsWith('{'));
      const records = lines.map((l) => JSON.parse(l));
      const bye = records.find((r) => r.message === 'shutting down');
      assert.ok(bye, readFileSync(stderr, 'utf8'));
      assert.equal(bye.level, 'INFO');
      assert.ok(bye.timestamp && bye.target);
      assert.equal(bye.span, undefined, 'outside a request: no request span');
      const warned = records.find((r) => r.level === 'WARN' && /SMTP|email/.test(r.message));
      assert.ok(warned, `the warning (status ${res.status}): ${readFileSync(stderr, 'utf8')}`);
      assert.deepEqual(warned.span, { id: "req-42ab", name: "request" }, JSON.stringify(warned));
    } finally {
      rmSync(server.root, { recursive: true, force: true });
    }
  });
});
