// The dashboard tests' harness: a real `kiln serve` on a temp data dir, a real headless Chromium
// (Debian's `chromium`, driven by playwright-core), axe-core for accessibility, and screenshots.
//
//   KILN_BIN            the server binary (default <repo>/target/release/kiln)
//   KILN_DASHBOARD_DIR  serve the dashboard from this folder (`--dashboardDir`) instead of the
//                       embedded copy: for work on the dashboard without rebuilding Kiln
//   CHROMIUM_BIN        the browser (default /usr/bin/chromium)
//   KILN_SCREENSHOTS    where screenshots go (default <repo>/target/dashboard-screenshots; the
//                       README's come from `KILN_SCREENSHOTS=docs/screenshots`)
//   KILN_TEST_DATABASE_URL  run the server on this PostgreSQL database (a fresh schema each)
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';
import PocketBase from 'pocketbase';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SUPERUSER = { email: 'admin@example.com', password: 'Passw0rd!2345' };
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function freePort() {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.on('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => ok(port));
    });
  });
}

/**
 * Starts `kiln serve` on a fresh data dir. With `superuser` (the default) SUPERUSER exists first;
 * without, the server prints the first-superuser link, returned by `installLink()`.
 * Returns { url, dir, stderr(), installLink(), pb(), stop() }; `pb()` is an SDK client signed in as
 * SUPERUSER.
 */
export async function startKiln({ superuser = true, args = [] } = {}) {
  const bin = process.env.KILN_BIN ? resolve(process.env.KILN_BIN) : join(REPO, 'target', 'release', 'kiln');
  const root = mkdtempSync(join(tmpdir(), 'kiln-dash-'));
  const dir = join(root, 'data');
  const port = await freePort();
  const env = { ...process.env };
  if (process.env.KILN_TEST_DATABASE_URL) {
    env.KILN_DATABASE_URL = process.env.KILN_TEST_DATABASE_URL;
    env.KILN_DATABASE_SCHEMA = `kiln_dash_${process.pid}_${port}`;
  }
  if (superuser) {
    const up = spawnSync(bin, ['superuser', 'upsert', SUPERUSER.email, SUPERUSER.password, '--dir', dir], { env, encoding: 'utf8' });
    if (up.status !== 0) throw new Error(`superuser upsert failed: ${up.stderr}`);
  }
  const extra = process.env.KILN_DASHBOARD_DIR ? ['--dashboardDir', resolve(process.env.KILN_DASHBOARD_DIR)] : [];
  const child = spawn(bin, ['serve', '--http', `127.0.0.1:${port}`, '--dir', dir, ...extra, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const log = createWriteStream(join(root, 'server.log'));
  child.stderr.pipe(log);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`kiln serve exited: ${err}`);
    try {
      if ((await fetch(`${url}/api/health`)).ok) break;
    } catch {}
    if (Date.now() > deadline) throw new Error(`kiln serve did not start: ${err}`);
    await sleep(100);
  }
  return {
    url,
    dir,
    stderr: () => err,
    async installLink() {
      for (let i = 0; i < 50; i++) {
        const m = err.match(/(http:\/\/\S+\/_\/#\/pbinstall\/\S+)/);
        if (m) return m[1];
        await sleep(100);
      }
      throw new Error(`no installer link printed:\n${err}`);
    },
    async pb() {
      const client = new PocketBase(url);
      client.autoCancellation(false);
      await client.collection('_superusers').authWithPassword(SUPERUSER.email, SUPERUSER.password);
      return client;
    },
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** A headless Chromium. */
export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_BIN || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
    timeout: 30_000,
  });
}

/**
 * A new page at the dashboard of `server` in `locale` (1280×800). `signedIn` (default) stores a
 * superuser session first, as the sign-in page would. Fails the test on any console error or
 * Content-Security-Policy violation of the page.
 */
export async function openDashboard(browser, server, { signedIn = true, locale = 'en', path = '/collections' } = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale, colorScheme: 'light' });
  const page = await context.newPage();
  page.problems = [];
  page.on('console', (m) => m.type() === 'error' && page.problems.push(`console: ${m.text()}`));
  page.on('pageerror', (e) => page.problems.push(`page error: ${e.message}`));
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`));
  });
  if (signedIn) {
    const client = await server.pb();
    const auth = JSON.stringify({ token: client.authStore.token, record: client.authStore.record });
    await context.addInitScript((value) => {
      try {
        if (!localStorage.getItem('kiln_superuser_auth')) localStorage.setItem('kiln_superuser_auth', value);
      } catch {} // a sandboxed frame (the HTML preview) has no storage
    }, auth);
  }
  await context.addInitScript((l) => {
    try {
      localStorage.getItem('kiln_locale') || localStorage.setItem('kiln_locale', l);
    } catch {} // a sandboxed frame
  }, locale.split('-')[0]);
  await page.goto(`${server.url}/_/#${path}`);
  return page;
}

/** Fails with the page's console errors and CSP violations, if any (expected ones excepted). */
export function assertNoProblems(page, allow = []) {
  const left = page.problems.filter((p) => !allow.some((a) => (a instanceof RegExp ? a.test(p) : p.includes(a))));
  if (left.length) throw new Error(`the page reported problems:\n${left.join('\n')}`);
}

/**
 * Runs axe-core on the page (WCAG 2.1 A and AA) and fails on any serious or critical violation,
 * naming the rule and the elements.
 */
export async function checkA11y(page, what) {
  // evaluated through the DevTools protocol, which the page's CSP does not govern
  if (!(await page.evaluate(() => !!window.axe))) await page.evaluate(`${AXE_SOURCE};0`);
  const result = await page.evaluate(async () => {
    const r = await window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] }, resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 5).map((n) => n.target.join(' ')) }));
  });
  const bad = result.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  if (bad.length) {
    throw new Error(`accessibility (${what}):\n${bad.map((v) => `  [${v.impact}] ${v.id}: ${v.help}\n    ${v.nodes.join('\n    ')}`).join('\n')}`);
  }
  return result;
}

/** Saves a screenshot of the page as `<name>.png` in KILN_SCREENSHOTS. */
export async function screenshot(page, name) {
  const dir = resolve(REPO, process.env.KILN_SCREENSHOTS || 'target/dashboard-screenshots');
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: join(dir, `${name}.png`) });
}
