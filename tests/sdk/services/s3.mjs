// A real S3-compatible server for the tests: moto's server (PyPI `moto[server]`), on loopback.
import { spawn } from 'node:child_process';
import { freePort } from '../server.mjs';

/** Starts moto and creates `bucket`: { endpoint, bucket, keys(prefix), stop() }. */
export async function startS3(bucket = 'kiln-test') {
  const port = await freePort();
  const python = process.env.PYTHON ?? 'python3';
  const child = spawn(python, ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.on('data', (d) => (log += d));
  child.stderr.on('data', (d) => (log += d));
  let exited = false;
  child.on('exit', () => (exited = true));
  process.on('exit', () => { if (!exited) child.kill('SIGKILL'); });
  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (exited) throw new Error(`moto server exited (is \`moto[server]\` installed? pip install "moto[server]"):\n${log}`);
    try {
      const r = await fetch(`${endpoint}/${bucket}`, { method: 'PUT' });
      if (r.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`moto server did not start in 30 s:\n${log}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  /** The keys under `prefix` in the bucket (moto accepts unsigned requests). */
  async function keys(prefix = '') {
    const r = await fetch(`${endpoint}/${bucket}?list-type=2&prefix=${encodeURIComponent(prefix)}`);
    const xml = await r.text();
    return [...xml.matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) => m[1]);
  }
  async function stop() {
    if (!exited) {
      child.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 200));
      if (!exited) child.kill('SIGKILL');
    }
  }
  return { endpoint, bucket, keys, stop, logs: () => log };
}
