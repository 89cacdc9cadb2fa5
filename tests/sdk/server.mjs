// Starts a real `kiln serve` (or any binary with the same CLI, e.g. PocketBase) for the SDK tests.
//
//   KILN_BIN  path to the server binary (default: <repo>/target/release/kiln)
//   KILN_TEST_DATABASE_URL  run the server on this PostgreSQL database (a fresh schema per server)
//
// The binary must understand `superuser upsert EMAIL PASS --dir D` and `serve --http ADDR --dir D`.
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SUPERUSER = { email: 'admin@example.com', password: 'Passw0rd!2345' };

const START_TIMEOUT_MS = 20_000;

/** A free TCP port on 127.0.0.1. */
export function freePort() {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => ok(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Creates a temp data dir, upserts the superuser, spawns the server and waits for /api/health.
 * Returns { url, root, dir, bin, env, logs(), stop({ keep }) (SIGTERM; resolves to the exit { code, signal }), kill() } (`env`: the server's environment, for CLI runs on its data); `dir` is the data dir inside the temp dir
 * `root`; `kill()` sends SIGKILL. `env` adds environment variables (e.g. a shared KILN_DATABASE_SCHEMA).
 * `commonArgs` go to both commands (`--encryptionEnv NAME`). `bin` runs another binary with the same command line (PocketBase); `dir` serves an existing data dir
 * (kept by `stop()`, which removes only `root`). `port` listens on that loopback port instead of a free one (a node
 * restarted behind a balancer whose upstream list names it); `superuser: false` skips the upsert (it runs
 * synchronously: a node started again on a shared database, under a test's load, has its superuser already).
 */
export async function startServer({ serveArgs = [], commonArgs = [], env: extraEnv = {}, bin: givenBin, dir: givenDir, port: givenPort, superuser = true } = {}) {
  const bin = givenBin ?? (process.env.KILN_BIN ? resolve(process.env.KILN_BIN) : join(REPO, 'target', 'release', 'kiln'));
  if (!existsSync(bin)) {
    throw new Error(`server binary not found: ${bin} (run \`cargo build --release -p kiln\` or set KILN_BIN)`);
  }
  // <tmp>/data is the data dir; PocketBase puts pb_migrations/ and pb_hooks/ beside it (in <tmp>),
  // so nothing leaks out of the per-run temp dir.
  const port = givenPort ?? await freePort();
  const root = mkdtempSync(join(tmpdir(), 'kiln-sdk-'));
  const dir = givenDir ?? join(root, 'data');
  const stderrPath = join(root, 'server.stderr.log');
  const stdoutPath = join(root, 'server.stdout.log');

  // KILN_TEST_DATABASE_URL: the server keeps its data in a fresh schema of that PostgreSQL database.
  const env = { ...process.env };
  if (process.env.KILN_TEST_DATABASE_URL) {
    env.KILN_DATABASE_URL = process.env.KILN_TEST_DATABASE_URL;
    env.KILN_DATABASE_SCHEMA = `kiln_sdk_${process.pid}_${port}`;
  }
  Object.assign(env, extraEnv);
  const up = superuser && spawnSync(bin, ['superuser', 'upsert', SUPERUSER.email, SUPERUSER.password, '--dir', dir, ...commonArgs], {
    env,
    encoding: 'utf8',
    timeout: START_TIMEOUT_MS,
  });
  if (up && up.status !== 0) {
    throw new Error(`\`superuser upsert\` failed (status ${up.status}, ${up.error ?? ''}):\n${up.stdout}\n${up.stderr}`);
  }

  const url = `http://127.0.0.1:${port}`;
  const child = spawn(bin, ['serve', '--http', `127.0.0.1:${port}`, '--dir', dir, ...commonArgs, ...serveArgs], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stderrFile = createWriteStream(stderrPath);
  const stdoutFile = createWriteStream(stdoutPath);
  child.stderr.pipe(stderrFile);
  child.stdout.pipe(stdoutFile);

  let exited = null;
  const exitPromise = new Promise((r) => child.on('exit', (code, signal) => { exited = { code, signal }; r(exited); }));
  // Last resort: never leave a server behind if the test process dies.
  const killOnExit = () => { if (!exited) child.kill('SIGKILL'); };
  process.on('exit', killOnExit);

  const logs = () => {
    const read = (p) => (existsSync(p) ? readFileSync(p, 'utf8') : '');
    return `--- server stderr (${stderrPath}) ---\n${read(stderrPath)}--- server stdout (${stdoutPath}) ---\n${read(stdoutPath)}`;
  };

  const stop = async ({ keep = false } = {}) => {
    if (!exited) {
      child.kill('SIGTERM');
      const t = setTimeout(() => { if (!exited) child.kill('SIGKILL'); }, 5_000);
      await exitPromise;
      clearTimeout(t);
    }
    process.off('exit', killOnExit);
    await Promise.all([new Promise((r) => stderrFile.end(r)), new Promise((r) => stdoutFile.end(r))]);
    if (!keep) rmSync(root, { recursive: true, force: true });
    return exited;
  };

  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (exited) {
      const msg = `server exited early (${JSON.stringify(exited)})\n${logs()}`;
      await stop({ keep: true });
      throw new Error(msg);
    }
    try {
      const res = await fetch(`${url}/api/health`, { signal: AbortSignal.timeout(1_000) });
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      const msg = `server did not answer GET /api/health with 200 within ${START_TIMEOUT_MS} ms\n${logs()}`;
      await stop({ keep: true });
      throw new Error(msg);
    }
    await sleep(100);
  }

  const kill = async () => {
    if (!exited) {
      child.kill('SIGKILL');
      await exitPromise;
    }
  };
  return { url, root, dir, bin, env, logs, stop, kill };
}

/** The PocketBase binary for the tests that compare with it: POCKETBASE_BIN, or `pocketbase` on PATH. */
export function pocketbaseBin() {
  if (process.env.POCKETBASE_BIN) return process.env.POCKETBASE_BIN;
  for (const d of (process.env.PATH ?? '').split(delimiter)) {
    if (d && existsSync(join(d, 'pocketbase'))) return join(d, 'pocketbase');
  }
  return null;
}
