// The command line as PocketBase users type it, and its safety: `--http :PORT`, one server per
// SQLite data dir, plain log lines when the output is not a terminal.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { freePort, startServer } from './server.mjs';
import { suite } from './helpers.mjs';

let server;
const { it } = suite(30_000);
// PostgreSQL nodes share their database on purpose: the data dir lock is for SQLite.
const sqlite = !process.env.KILN_TEST_DATABASE_URL;

before(async () => {
  server = await startServer();
});

after(async () => {
  await server?.stop();
});

it('a second server on the same SQLite data dir is refused with a clear message', { skip: !sqlite }, async () => {
  const port = await freePort();
  const second = spawnSync(server.bin, ['serve', '--http', `127.0.0.1:${port}`, '--dir', server.dir], {
    encoding: 'utf8',
    timeout: 10_000,
  });
  assert.equal(second.status, 1, second.stderr);
  assert.match(second.stderr, /another kiln server is serving the data dir/);
  // the first one is untouched
  const res = await fetch(`${server.url}/api/health`);
  assert.equal(res.status, 200);
});

it('--http :PORT listens on every interface', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-cli-'));
  const port = await freePort();
  const child = spawn(server.bin, ['serve', '--http', `:${port}`, '--dir', dir], { stdio: 'ignore' });
  try {
    let status = 0;
    for (let i = 0; i < 100 && status !== 200; i++) {
      status = await fetch(`http://127.0.0.1:${port}/api/health`).then((r) => r.status, () => 0);
      if (status !== 200) await sleep(100);
    }
    assert.equal(status, 200);
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.on('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  }
});

it('log lines written to a file carry no terminal colour codes', async () => {
  const other = await startServer();
  await other.stop({ keep: true }); // logs "shutting down"
  const logs = other.logs();
  rmSync(other.root, { recursive: true, force: true });
  assert.match(logs, /shutting down/);
  assert.ok(!logs.includes('\u001b['), logs);
});
