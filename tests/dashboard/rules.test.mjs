// The rule editor and the filter input (crates/kiln-dashboard/ui/src/ui/rule-editor/), on a test
// page of their own: tests/dashboard/fixtures/rules-entry.jsx, bundled with the dashboard's
// esbuild and served on the Kiln origin (page.route), so that its API calls are same-origin.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertNoProblems, checkA11y, launchBrowser, openDashboard, REPO, screenshot, startKiln } from './harness.mjs';

const UI = join(REPO, 'crates', 'kiln-dashboard', 'ui');
const PAGE = '/_/__rules_test__.html';
let browser;
let server;
let out;

before(async () => {
  out = mkdtempSync(join(tmpdir(), 'kd-rules-test-'));
  execFileSync(
    join(UI, 'node_modules', '.bin', 'esbuild'),
    [
      join(REPO, 'tests', 'dashboard', 'fixtures', 'rules-entry.jsx'),
      '--bundle',
      '--format=esm',
      '--jsx=automatic',
      '--jsx-import-source=preact',
      '--log-level=warning',
      `--outdir=${out}`,
      '--entry-names=rules',
    ],
    { env: { ...process.env, NODE_PATH: join(UI, 'node_modules') }, stdio: ['ignore', 'inherit', 'inherit'] },
  );
  browser = await launchBrowser();
  server = await startKiln();
  const pb = await server.pb();
  const users = await pb.collections.getOne('users');
  const posts = await pb.collections.create({
    name: 'posts',
    type: 'base',
    fields: [
      { name: 'title', type: 'text' },
      { name: 'author', type: 'relation', collectionId: users.id, maxSelect: 1 },
      { name: 'tags', type: 'select', values: ['a', 'b', 'c'], maxSelect: 3 },
      { name: 'created', type: 'autodate', onCreate: true },
    ],
  });
  await pb.collections.create({
    name: 'comments',
    type: 'base',
    fields: [
      { name: 'body', type: 'text' },
      { name: 'post', type: 'relation', collectionId: posts.id, maxSelect: 1 },
    ],
  });
});

after(async () => {
  await browser?.close();
  await server?.stop();
  if (out) rmSync(out, { recursive: true, force: true });
});

/** The test page, on the server's origin, signed in as the superuser. */
async function openTestPage(query = 'collection=posts') {
  const page = await openDashboard(browser, server, { path: '/collections' });
  const js = readFileSync(join(out, 'rules.js'));
  const css = readFileSync(join(out, 'rules.css'));
  await page.route(`${server.url}/_/__rules_test__*`, (route) => {
    const url = new URL(route.request().url());
    if (url.pathname.endsWith('.js')) return route.fulfill({ body: js, contentType: 'text/javascript' });
    if (url.pathname.endsWith('.css')) return route.fulfill({ body: css, contentType: 'text/css' });
    return route.fulfill({
      contentType: 'text/html',
      body: `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Rules test</title>
<link rel="stylesheet" href="__rules_test__.css"><script type="module" src="__rules_test__.js"></script></head>
<body><div id="app"></div></body></html>`,
    });
  });
  await page.goto(`${server.url}${PAGE}?${query}`);
  await page.getByRole('heading', { name: 'Rules' }).waitFor();
  return page;
}

/** An option's accessible name: the completion, then its kind or type. */
const opt = (value) => new RegExp(`^${value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(\\s|$)`);

const state = async (page) => JSON.parse(await page.locator('#state').textContent());

test('highlighting, completion and keyboard selection in a rule', async () => {
  const page = await openTestPage();
  const box = page.getByRole('combobox', { name: 'View rule' });
  const field = page.locator('.rule-field', { has: box });
  // '' means everyone, and says so
  await field.getByText('Empty: everyone may do this').waitFor();
  await box.click();

  // a field of the draft
  await page.keyboard.type('ti');
  const list = page.getByRole('listbox');
  await list.getByRole('option', { name: opt('title') }).waitFor();
  assert.equal(await box.getAttribute('aria-expanded'), 'true');
  assert.equal(await box.getAttribute('aria-controls'), await list.getAttribute('id'));
  await page.keyboard.press('Enter');
  assert.equal((await state(page)).viewRule, 'title');
  assert.equal(await box.getAttribute('aria-expanded'), 'false');

  // @request.auth. lists the auth collections' fields; arrows move the active option
  await page.keyboard.type(' = "x" && @request.auth.');
  await list.getByRole('option', { name: opt('@request.auth.email') }).waitFor();
  const options = list.getByRole('option');
  const first = await options.nth(0).textContent();
  assert.match(first, /^@request\.auth\.id/);
  assert.equal(await options.nth(0).getAttribute('aria-selected'), 'true');
  await page.keyboard.press('ArrowDown');
  const second = options.nth(1);
  assert.equal(await second.getAttribute('aria-selected'), 'true');
  assert.equal(await box.getAttribute('aria-activedescendant'), await second.getAttribute('id'));
  assert.equal(await options.nth(0).getAttribute('aria-selected'), 'false');
  await page.keyboard.press('ArrowUp');
  await page.keyboard.press('ArrowUp'); // wraps to the last
  assert.equal(await options.last().getAttribute('aria-selected'), 'true');
  await page.keyboard.press('ArrowDown'); // back to the first
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('Tab'); // Tab accepts too
  assert.equal((await state(page)).viewRule, 'title = "x" && @request.auth.email');

  // relation paths: the fields of the related collection
  await page.keyboard.type(' != "" && author.');
  await list.getByRole('option', { name: opt('author.email') }).waitFor();
  await page.keyboard.type('ver');
  await page.keyboard.press('Enter');
  assert.match((await state(page)).viewRule, /author\.verified$/);

  // @collection. lists every collection, then that collection's fields
  await page.keyboard.type(' = true || @collection.');
  await list.getByRole('option', { name: opt('@collection.comments.') }).waitFor();
  await list.getByRole('option', { name: opt('@collection.users.') }).waitFor();
  await page.keyboard.type('comm');
  await page.keyboard.press('Enter');
  await list.getByRole('option', { name: opt('@collection.comments.body') }).waitFor();
  await page.keyboard.type('po');
  await page.keyboard.press('Enter');
  await page.keyboard.type(' ?= id && created > @to');
  await list.getByRole('option', { name: opt('@todayStart') }).waitFor();

  // the popup open: accessible, and the screenshot of the editor
  await checkA11y(page, 'rule editor with suggestions');
  await screenshot(page, 'rule-editor');
  await page.keyboard.press('Escape');
  await list.waitFor({ state: 'detached' });
  assert.equal(await box.getAttribute('aria-expanded'), 'false');
  // Ctrl+Space opens it again
  await page.keyboard.press('Control+Space');
  await list.getByRole('option', { name: opt('@todayStart') }).waitFor();
  assert.deepEqual(await list.getByRole('option').allTextContents(), ['@tomorrowdate macro', '@todayStartdate macro', '@todayEnddate macro']);
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('Enter');

  const rule = 'title = "x" && @request.auth.email != "" && author.verified = true || @collection.comments.post ?= id && created > @todayStart';
  assert.equal((await state(page)).viewRule, rule);
  // the mirror highlights every token, in the textarea's text
  const mirror = field.locator('.code-mirror');
  assert.equal((await mirror.textContent()).replace(/[\n\u200b]+$/, ''), rule);
  const spans = async (cls) => mirror.locator(`.tok-${cls}`).allTextContents();
  assert.deepEqual(await spans('field'), ['title', 'author.verified', 'id', 'created']);
  assert.deepEqual(await spans('string'), ['"x"', '""']);
  assert.deepEqual(await spans('request'), ['@request.auth.email']);
  assert.deepEqual(await spans('collection'), ['@collection.comments.post']);
  assert.deepEqual(await spans('macro'), ['@todayStart']);
  assert.deepEqual(await spans('keyword'), ['true']);
  assert.deepEqual(await spans('join'), ['&&', '&&', '||', '&&']);
  assert.deepEqual(await spans('sign'), ['=', '!=', '=', '?=', '>']);
  // the two layers cover each other exactly (same box, same wrapping)
  const [a, b] = await Promise.all([mirror.boundingBox(), box.boundingBox()]);
  assert.deepEqual([a.width, a.height], [b.width, b.height]);
  assert.equal(a.height, 54, 'the long rule wraps onto a second line');
  await page.keyboard.press('Enter'); // a new line (the popup is closed)
  assert.equal((await box.boundingBox()).height, 74, 'the box grows with a new line');
  assert.equal((await mirror.boundingBox()).height, 74);
  await page.keyboard.press('Backspace');
  assert.equal(await page.evaluate(() => document.querySelector('textarea').scrollHeight <= document.querySelector('textarea').clientHeight), true);
  // no syntax hint for a valid rule
  assert.equal(await field.locator('.rule-problem').count(), 0);
  assertNoProblems(page);
});

test('Escape closes the suggestions first, then the dialog around the rule', async () => {
  const page = await openTestPage();
  await page.getByRole('button', { name: 'Open dialog' }).click();
  const dialog = page.getByRole('dialog', { name: 'Rule in a dialog' });
  await dialog.waitFor();
  await dialog.getByRole('combobox', { name: 'Create rule' }).click();
  await page.keyboard.type('@request.auth.em');
  await dialog.getByRole('option', { name: opt('@request.auth.email') }).waitFor();
  await checkA11y(page, 'rule editor in a dialog');
  await page.keyboard.press('Escape');
  await dialog.getByRole('listbox').waitFor({ state: 'detached' });
  assert.equal(await dialog.isVisible(), true, 'the dialog stays open');
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'hidden' });
  assertNoProblems(page);
});

test('null locks the rule for superusers; unlocking gives an editable rule', async () => {
  const page = await openTestPage();
  const field = page.locator('.rule-field').first();
  await field.getByText('Superusers only').waitFor();
  assert.equal(await page.getByRole('combobox', { name: 'List/Search rule' }).count(), 0);
  assert.equal((await state(page)).listRule, null);
  await checkA11y(page, 'locked rule');
  await field.getByRole('button', { name: 'Unlock and set a custom rule' }).click();
  const box = page.getByRole('combobox', { name: 'List/Search rule' });
  await box.waitFor();
  assert.equal(await box.evaluate((el) => el === document.activeElement), true, 'the focus moves into the rule');
  assert.equal((await state(page)).listRule, '');
  await field.getByText('Empty: everyone may do this').waitFor();
  await page.keyboard.type('@request.auth.id != ""');
  await page.keyboard.press('Escape');
  await field.getByRole('button', { name: 'Set superusers only' }).click();
  assert.equal((await state(page)).listRule, null);
  await field.getByRole('button', { name: 'Unlock and set a custom rule' }).click();
  assert.equal((await state(page)).listRule, '@request.auth.id != ""', 'unlocking brings the rule back');
  assertNoProblems(page);
});

test('syntax hints while typing, the server check on blur, the API error', async () => {
  const page = await openTestPage('collection=posts&error=Invalid%20rule.%20Raw%20error%3A%20invalid%20or%20incomplete%20filter%20expression.');
  const view = page.locator('.rule-field', { has: page.getByRole('combobox', { name: 'View rule' }) });
  // the error prop shows under the box, and marks the control invalid
  await view.getByRole('alert').filter({ hasText: 'Invalid rule. Raw error' }).waitFor();
  assert.equal(await page.getByRole('combobox', { name: 'View rule' }).getAttribute('aria-invalid'), 'true');

  await page.locator('.rule-field').first().getByRole('button', { name: 'Unlock and set a custom rule' }).click();
  const box = page.getByRole('combobox', { name: 'List/Search rule' });
  const field = page.locator('.rule-field', { has: box });
  const hint = field.locator('.rule-problem');
  const typeRule = async (text) => {
    await box.fill(text);
    await page.waitForTimeout(450); // the hint waits for a pause in typing
  };
  await typeRule('(title = "a"');
  await hint.filter({ hasText: 'never closed' }).waitFor();
  await typeRule('title = "a');
  await hint.filter({ hasText: 'closing quote' }).waitFor();
  await typeRule('title =');
  await hint.filter({ hasText: 'missing next to “=”' }).waitFor();
  await typeRule('nope = 1');
  await hint.filter({ hasText: 'no field “nope”' }).waitFor();
  assert.equal(await field.locator('.code-mirror .tok-problem').textContent(), 'nope');
  // a hint does not block: the value is passed on as typed
  assert.equal((await state(page)).listRule, 'nope = 1');
  await checkA11y(page, 'rule with a syntax hint');

  // valid here, but not on the server: checked on blur, the API's answer shown
  await typeRule('author.nope = 1');
  assert.equal(await hint.count(), 0);
  const checked = page.waitForResponse((r) => r.url().includes('/api/collections/') && r.url().includes('filter='));
  await page.getByRole('heading', { name: 'Rules' }).click();
  const res = await checked;
  assert.equal(res.status(), 400);
  assert.equal(new URL(res.url()).searchParams.get('filter'), 'author.nope = 1');
  await field.getByRole('alert').filter({ hasText: 'The server cannot run this rule' }).waitFor();
  assert.equal(await box.getAttribute('aria-invalid'), 'true');
  // editing clears it; a good rule passes the check
  await typeRule('author.email != "" && tags:length > 1');
  assert.equal(await field.getByRole('alert').count(), 0);
  const ok = page.waitForResponse((r) => r.url().includes('filter='));
  await page.getByRole('heading', { name: 'Rules' }).click();
  assert.equal((await ok).status(), 200);
  await page.waitForTimeout(200);
  assert.equal(await field.getByRole('alert').count(), 0);

  // rules valid only as rules are not sent as a filter
  let sent = 0;
  page.on('request', (r) => r.url().includes('filter=') && sent++);
  for (const rule of ['@request.body.title:changed = false', '@request.method = "GET"', '@request.body.tags:isset = true']) {
    await typeRule(rule);
    await page.getByRole('heading', { name: 'Rules' }).click();
  }
  await page.waitForTimeout(300);
  assert.equal(sent, 0);
  assert.equal(await field.getByRole('alert').count(), 0);
  assertNoProblems(page, [/status of 400/]);
});

test('the one-line filter input: completion, Enter submits, plain text passes', async () => {
  const page = await openTestPage();
  const input = page.getByRole('combobox', { name: 'Search logs' });
  assert.equal(await input.evaluate((el) => el.tagName), 'INPUT');
  await input.click();
  await page.keyboard.type('lev');
  await page.getByRole('option', { name: opt('level') }).waitFor();
  await page.keyboard.press('Enter'); // accepts, does not submit
  assert.deepEqual(await state(page).then((s) => [s.filter, s.submitted]), ['level', '']);
  await page.keyboard.type(' > 2 && data.');
  await page.waitForTimeout(100);
  assert.equal(await page.getByRole('listbox').count(), 0, 'a json field has no known keys');
  await page.keyboard.type('x = "a" && @req');
  await page.waitForTimeout(100);
  assert.equal(await page.getByRole('option', { name: /@request/ }).count(), 0, 'no @request.* in a filter');
  await page.keyboard.press('Escape');
  await page.keyboard.press('Enter');
  assert.equal((await state(page)).submitted, 'level > 2 && data.x = "a" && @req');
  await page.waitForTimeout(450);
  await page.locator('.filter-problem', { hasText: '“@req” is not known' }).waitFor();
  assert.deepEqual(await page.locator('.code-box-single .tok-field').allTextContents(), ['level', 'data.x']);
  // plain text is passed on for the caller to search, without a hint
  await input.fill('hello world');
  await page.keyboard.press('Enter');
  assert.equal((await state(page)).submitted, 'hello world');
  await page.waitForTimeout(450);
  assert.equal(await page.locator('.filter-problem').count(), 0);
  // a long filter scrolls, and the highlighted copy with it
  await input.fill(`message ~ "${'x'.repeat(120)}" && level > 1`);
  await page.keyboard.press('End');
  await page.waitForTimeout(100);
  const scroll = await page.evaluate(() => {
    const el = document.querySelector('.code-box-single .code-input');
    const m = document.querySelector('.code-box-single .code-mirror');
    return [el.scrollLeft, m.scrollLeft];
  });
  assert.ok(scroll[0] > 300, `the input scrolled (${scroll})`);
  assert.equal(scroll[1], scroll[0]);
  await page.keyboard.press('Home');
  await page.waitForTimeout(100);
  assert.deepEqual(await page.evaluate(() => [...document.querySelectorAll('.code-box-single > *')].slice(0, 2).map((e) => e.scrollLeft)), [0, 0]);
  await input.fill('lev');
  await page.keyboard.press('Control+Space');
  await page.getByRole('option', { name: opt('level') }).waitFor();
  await checkA11y(page, 'filter input with suggestions');
  assertNoProblems(page);
});
