// A real redis-server (the Debian package's binary) on a free loopback port, without persistence.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { freePort } from '../server.mjs';

const BIN = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((p) => existsSync(p));

/** Whether redis-server is installed. */
export const haveRedis = () => Boolean(BIN);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const accepts = (port) =>
  new Promise((ok) => {
    const s = connect(port, '127.0.0.1', () => { s.destroy(); ok(true); });
    s.on('error', () => ok(false));
  });

/** Starts redis-server: { url, restart(), stop() }; `restart()` kills it and starts it again on the same port. */
export async function startRedis() {
  const port = await freePort();
  let child;
  const launch = async () => {
    child = spawn(BIN, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    const deadline = Date.now() + 10_000;
    while (!(await accepts(port))) {
      if (Date.now() > deadline) throw new Error('redis-server did not start');
      await sleep(20);
    }
  };
  const kill = () => new Promise((ok) => {
    if (child.exitCode !== null || child.signalCode !== null) return ok();
    child.once('exit', ok);
    child.kill('SIGKILL');
  });
  await launch();
  return {
    url: `redis://127.0.0.1:${port}`,
    async restart() { await kill(); await launch(); },
    stop: kill,
  };
}
