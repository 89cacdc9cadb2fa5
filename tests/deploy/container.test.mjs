// The container image (Dockerfile; docs/DEPLOY.md "Containers"), built and started with podman.
//
// tests/deploy/build-image.sh builds the Dockerfile's runtime stage from the prebuilt binary
// (target/release/kiln, or KILN_BIN) on a Debian root filesystem made by debootstrap, since Docker
// Hub is out of reach; then this file runs the image as docs/DEPLOY.md shows, with a named volume on
// /data, and as strictly as deploy/k8s/ runs it (read-only root filesystem, no capabilities, no new
// privileges), and checks: the image's settings (non-root user, volume, port, stop signal, health
// check, labels), the HEALTHCHECK turns healthy and GET /api/health answers 200 through the
// published port, `kiln superuser upsert` by `podman exec`, a collection and a record written with
// the official JS SDK, the server runs as uid 10001, `podman stop` (SIGTERM) lets a request in
// flight finish and exits 0 well within the grace period, and the data outlives the container.
//
//   node --test --test-force-exit tests/deploy/*.test.mjs
//
// Where this machine cannot build or run containers (no podman, no root, no mirror), the tests are
// skipped with build-image.sh's reason. The pocketbase SDK comes from tests/sdk (npm ci there).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { freePort, REPO } from '../sdk/server.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const SUPERUSER = { email: 'admin@example.com', password: 'Passw0rd!2345' };
const GRACE_SECONDS = 30; // docker stop -t 30, terminationGracePeriodSeconds: 30

/** Runs a command; resolves to { code, stdout, stderr } (never rejects on a non-zero exit). */
function run(cmd, args, { echo = false, timeout = 600_000 } = {}) {
  return new Promise((ok, fail) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => {
      stderr += d;
      if (echo) process.stderr.write(d);
    });
    child.on('error', fail);
    child.on('close', (code, signal) => ok({ code: code ?? signal, stdout, stderr }));
  });
}

// ---- the image ---------------------------------------------------------------------------------
const t0 = Date.now();
const build = await run(join(REPO, 'tests', 'deploy', 'build-image.sh'), [], { echo: true });
const buildSeconds = (Date.now() - t0) / 1000;
let skip = false;
let built;
if (build.code === 77) {
  skip = build.stderr.trim().split('\n').filter((l) => l.startsWith('SKIP: ')).pop()?.slice(6) ?? 'build-image.sh: cannot run here';
} else if (build.code !== 0) {
  throw new Error(`tests/deploy/build-image.sh failed (exit ${build.code}):\n${build.stderr}`);
} else {
  built = JSON.parse(build.stdout.trim().split('\n').pop());
  console.error(`image ${built.image}: ${(built.size / 1e6).toFixed(0)} MB, built in ${buildSeconds.toFixed(1)} s ${JSON.stringify(built.seconds)}`);
}

/** podman with this machine's global flags (runtime, cgroup manager) from build-image.sh. */
const podman = (args, opts) => run('podman', [...built.podman, ...args], opts);
async function podmanOk(args) {
  const r = await podman(args);
  assert.equal(r.code, 0, `podman ${args.join(' ')}: exit ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r.stdout.trim();
}

const NAME = `kiln-deploy-test-${process.pid}`;
const VOLUME = `${NAME}-data`;
const HOOK = `
routerAdd("GET", "/slow", (e) => {
  sleep(1500);
  return e.json(200, { done: true });
});
`;

describe('the container image', { skip }, () => {
  let url;
  let hooks;
  let PocketBase;
  let failed = false;
  const timings = {};

  before(async () => {
    const require = createRequire(join(REPO, 'tests', 'sdk', 'package.json'));
    let sdk;
    try {
      sdk = require.resolve('pocketbase');
    } catch {
      throw new Error('the pocketbase SDK is not installed: run `npm ci` in tests/sdk');
    }
    PocketBase = (await import(pathToFileURL(sdk).href)).default;
    // a pb_hooks dir beside the data dir (/pb_hooks), read-only: a slow route for the stop test
    hooks = mkdtempSync(join(tmpdir(), 'kiln-deploy-hooks-'));
    chmodSync(hooks, 0o755);
    writeFileSync(join(hooks, 'slow.pb.js'), HOOK, { mode: 0o644 });
    await podman(['rm', '-f', NAME]);
    await podman(['volume', 'rm', '-f', VOLUME]);
  });

  after(async () => {
    if (!built) return;
    if (failed) {
      const logs = await podman(['logs', NAME]);
      console.error(`container log:\n${logs.stdout}${logs.stderr}`);
    }
    await podman(['rm', '-f', '-t', '0', NAME]);
    await podman(['volume', 'rm', '-f', VOLUME]);
    if (hooks) rmSync(hooks, { recursive: true, force: true });
    console.error(`timings (s): build ${buildSeconds.toFixed(1)}, ${Object.entries(timings).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')}`);
  });

  /** Waits until the image's HEALTHCHECK passes (podman runs it in the container), ≤ 30 s. */
  async function healthy() {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const r = await podman(['healthcheck', 'run', NAME]);
      if (r.code === 0) return;
      if (Date.now() > deadline) throw new Error(`no healthy container within 30 s: ${r.stdout}${r.stderr}`);
      await sleep(250);
    }
  }

  const test = (name, fn) => it(name, { timeout: 120_000 }, async (t) => {
    try {
      await fn(t);
    } catch (e) {
      failed = true;
      throw e;
    }
  });

  test('the image: non-root user, /data volume, port 8090, SIGTERM, a health check, OCI labels', async () => {
    const [image] = JSON.parse(await podmanOk(['image', 'inspect', built.image]));
    const c = image.Config;
    assert.equal(c.User, '10001:10001');
    assert.deepEqual(Object.keys(c.Volumes ?? {}), ['/data']);
    assert.deepEqual(Object.keys(c.ExposedPorts ?? {}), ['8090/tcp']);
    assert.equal(c.StopSignal, 'SIGTERM');
    assert.ok(c.Env.includes('KILN_DIR=/data'), c.Env.join(' '));
    assert.deepEqual([...c.Entrypoint, ...c.Cmd], ['kiln', 'serve', '--http', '0.0.0.0:8090']);
    assert.match(image.Healthcheck?.Test?.join(' ') ?? '', /\/dev\/tcp\/127\.0\.0\.1\/8090.*GET \/api\/health/);
    for (const k of ['title', 'description', 'version', 'revision', 'licenses']) {
      assert.ok(c.Labels[`org.opencontainers.image.${k}`], `label org.opencontainers.image.${k}`);
    }
    // no curl or wget: the health check needs only bash
    const tools = await podman(['run', '--rm', ...built.run, '--entrypoint', 'bash', built.image, '-c',
      'command -v curl wget; test -s /etc/ssl/certs/ca-certificates.crt && echo certs']);
    assert.equal(tools.stdout.trim(), 'certs', tools.stderr);
  });

  test('starts, turns healthy, answers GET /api/health on the published port', async () => {
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    const started = Date.now();
    await podmanOk(['run', '-d', '--name', NAME, ...built.run,
      '--read-only', '--read-only-tmpfs=false', '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges',
      '-v', `${VOLUME}:/data`, '-v', `${hooks}:/pb_hooks:ro`,
      '-p', `127.0.0.1:${port}:8090`, built.image]);
    await healthy();
    timings.start = (Date.now() - started) / 1000;
    const [ctr] = JSON.parse(await podmanOk(['inspect', NAME]));
    assert.equal(ctr.State.Health?.Status, 'healthy');
    const res = await fetch(`${url}/api/health`);
    assert.equal(res.status, 200);
    assert.equal((await res.json()).message, 'API is healthy.');
  });

  test('runs as uid 10001, not root', async () => {
    assert.equal(await podmanOk(['exec', NAME, 'id', '-u']), '10001');
    // the server itself: PID 1 of the container
    const top = await podmanOk(['top', NAME, 'pid', 'huser', 'comm']);
    const row = top.split('\n').map((l) => l.trim().split(/\s+/)).find((f) => f[0] === '1');
    assert.deepEqual(row, ['1', '10001', 'kiln'], top);
  });

  test('kiln superuser upsert by podman exec; a record written with the JS SDK', async () => {
    const out = await podmanOk(['exec', NAME, 'kiln', 'superuser', 'upsert', SUPERUSER.email, SUPERUSER.password]);
    assert.match(out, /admin@example\.com/);
    const pb = new PocketBase(url);
    pb.autoCancellation(false);
    await pb.collection('_superusers').authWithPassword(SUPERUSER.email, SUPERUSER.password);
    await pb.collections.create({ name: 'notes', type: 'base', listRule: '', viewRule: '', createRule: '',
      fields: [{ name: 'text', type: 'text', required: true }] });
    const guest = new PocketBase(url);
    const note = await guest.collection('notes').create({ text: 'hello from a container' });
    const list = await guest.collection('notes').getFullList();
    assert.deepEqual(list.map((r) => [r.id, r.text]), [[note.id, 'hello from a container']]);
  });

  test(`podman stop (SIGTERM): the request in flight finishes, exit 0 well within ${GRACE_SECONDS} s`, async () => {
    const sent = Date.now();
    const slow = fetch(`${url}/slow`).then(async (r) => ({ status: r.status, body: await r.json(), at: Date.now() - sent }));
    await sleep(300);
    const started = Date.now();
    await podmanOk(['stop', '-t', String(GRACE_SECONDS), NAME]);
    const took = (Date.now() - started) / 1000;
    timings.stop = took;
    const answer = await slow;
    assert.deepEqual([answer.status, answer.body], [200, { done: true }], 'the request in flight finished');
    const [ctr] = JSON.parse(await podmanOk(['inspect', NAME]));
    assert.equal(ctr.State.ExitCode, 0, 'exit status 0 (a SIGKILL after the grace period would be 137)');
    assert.ok(took < 10, `stopped in ${took} s`);
    const logs = await podman(['logs', NAME]);
    assert.match(logs.stdout + logs.stderr, /shutting down/);
  });

  test('the data lives in the volume: started again, the superuser and the record are there', async () => {
    const started = Date.now();
    await podmanOk(['start', NAME]);
    await healthy();
    timings.restart = (Date.now() - started) / 1000;
    const pb = new PocketBase(url);
    pb.autoCancellation(false);
    await pb.collection('_superusers').authWithPassword(SUPERUSER.email, SUPERUSER.password);
    const list = await pb.collection('notes').getFullList();
    assert.deepEqual(list.map((r) => r.text), ['hello from a container']);
    const files = await podmanOk(['exec', NAME, 'ls', '/data']);
    assert.match(files, /data\.db/);
    await podmanOk(['stop', '-t', String(GRACE_SECONDS), NAME]);
  });
});
