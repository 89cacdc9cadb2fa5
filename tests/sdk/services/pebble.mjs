// Let's Encrypt's test CA, pebble (Debian's package), on loopback: its directory served over HTTPS
// with a certificate from a throwaway CA made here with openssl, its lookups answered by
// pebble-challtestsrv (every name is 127.0.0.1), and its validations sent to the ports the test
// names (`httpPort` for HTTP-01, `tlsPort` for TLS-ALPN-01).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../server.mjs';

const PEBBLE = '/usr/bin/pebble';
const CHALLTESTSRV = '/usr/bin/pebble-challtestsrv';

/** Whether pebble and openssl are installed. */
export const havePebble = () => existsSync(PEBBLE) && existsSync(CHALLTESTSRV)
  && spawnSync('openssl', ['version']).status === 0;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** GET `url` over HTTPS trusting `ca` (PEM): { status, body }. */
export function httpsGet(url, { ca, servername, headers = {} } = {}) {
  return new Promise((ok, fail) => {
    const req = request(url, { ca, servername, headers, timeout: 5_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { body += d; });
      res.on('end', () => ok({ status: res.statusCode, headers: res.headers, body }));
    });
    req.on('error', fail);
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.end();
  });
}

/** A CA and a certificate it signed for localhost and 127.0.0.1, made with openssl in `dir`. */
function makeTlsFiles(dir) {
  const run = (...args) => {
    const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
  };
  run('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2',
    '-subj', '/CN=pebble test CA', '-keyout', 'ca.key', '-out', 'ca.pem');
  run('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=localhost',
    '-keyout', 'server.key', '-out', 'server.csr');
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  run('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2',
    '-extfile', 'san.ext', '-out', 'server.pem');
}

/**
 * Prepares pebble validating on `httpPort` and `tlsPort` (of 127.0.0.1) and issuing certificates
 * valid for `validitySeconds`, without starting it (a server can be pointed at it first). Returns
 * { directory, caRoot (the file Kiln trusts for the directory), start(), issuerRoots() (PEM of the
 * root and intermediate its certificates chain to), logs(), stop() }.
 */
export async function createPebble({ httpPort, tlsPort, validitySeconds = 3600 } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-pebble-'));
  makeTlsFiles(dir);
  const [port, mgmt, dns, dnsMgmt] = [await freePort(), await freePort(), await freePort(), await freePort()];
  writeFileSync(join(dir, 'pebble.json'), JSON.stringify({
    pebble: {
      listenAddress: `127.0.0.1:${port}`,
      managementListenAddress: `127.0.0.1:${mgmt}`,
      certificate: join(dir, 'server.pem'),
      privateKey: join(dir, 'server.key'),
      httpPort,
      tlsPort,
      ocspResponderURL: '',
      externalAccountBindingRequired: false,
      certificateValidityPeriod: validitySeconds,
    },
  }));
  const ca = readFileSync(join(dir, 'ca.pem'), 'utf8');
  const directory = `https://127.0.0.1:${port}/dir`;
  let output = '';
  const children = [];
  const launch = (bin, args, env = process.env) => {
    const child = spawn(bin, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (d) => { output += d; });
    child.stderr.on('data', (d) => { output += d; });
    children.push(child);
  };
  const stopChild = (child) => new Promise((ok) => {
    if (child.exitCode !== null || child.signalCode !== null) return ok();
    child.once('exit', ok);
    child.kill('SIGTERM');
  });
  return {
    directory,
    caRoot: join(dir, 'ca.pem'),
    async start() {
      launch(CHALLTESTSRV, [
        '-dns01', `127.0.0.1:${dns}`, '-http01', '', '-https01', '', '-tlsalpn01', '',
        '-management', `127.0.0.1:${dnsMgmt}`, '-defaultIPv4', '127.0.0.1', '-defaultIPv6', '',
      ]);
      // no random waits before validating, and every order validates afresh (a renewal too)
      launch(PEBBLE, ['-config', join(dir, 'pebble.json'), '-dnsserver', `127.0.0.1:${dns}`],
        { ...process.env, PEBBLE_VA_NOSLEEP: '1', PEBBLE_WFE_NONCEREJECT: '0', PEBBLE_AUTHZREUSE: '0' });
      const deadline = Date.now() + 15_000;
      for (;;) {
        try {
          if ((await httpsGet(directory, { ca })).status === 200) return;
        } catch { /* not up yet */ }
        if (Date.now() > deadline) throw new Error(`pebble did not start:\n${output}`);
        await sleep(100);
      }
    },
    async issuerRoots() {
      const root = await httpsGet(`https://127.0.0.1:${mgmt}/roots/0`, { ca });
      const inter = await httpsGet(`https://127.0.0.1:${mgmt}/intermediates/0`, { ca });
      return [root.body, inter.body];
    },
    logs: () => output,
    async stop() {
      for (const child of children) await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** [`createPebble`], started. */
export async function startPebble(options) {
  const pebble = await createPebble(options);
  await pebble.start();
  return pebble;
}
