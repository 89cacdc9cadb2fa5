// Every screen by keyboard alone: sign in, open a collection, create and edit records, edit a
// collection (a new field, the ARIA tabs, the rule editor's completion), the main navigation to
// Settings and Logs, the language switch. Only key presses and typing drive the page (no click,
// fill or check); each step checks what a sighted keyboard user sees: which control has the focus,
// its accessible name, and a visible focus indicator.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertNoProblems, checkA11y, launchBrowser, openDashboard, screenshot, startKiln, SUPERUSER } from './harness.mjs';

let browser;
let server;
let pb;
let page;
before(async () => {
  browser = await launchBrowser();
  server = await startKiln();
  pb = await server.pb();
  await pb.collections.create({ name: 'notes', type: 'base', fields: [{ name: 'body', type: 'text' }] });
  await pb.collections.create({
    name: 'posts',
    type: 'base',
    fields: [
      { name: 'title', type: 'text' },
      { name: 'published', type: 'bool' },
    ],
    listRule: '',
    viewRule: '',
  });
  await pb.collection('posts').create({ title: 'First post', published: false });
});
after(async () => {
  await server?.stop();
  await browser?.close();
});

/**
 * What the focused element is, as assistive technology and a sighted user see it: its role,
 * accessible name (a close approximation of the accname algorithm), state, and the look of its
 * focus indicator (outline or box-shadow, and the outline's contrast with what is behind it).
 */
function describeFocus(p) {
  return p.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body || el === document.documentElement) return { role: 'none', name: '', tag: el?.tagName.toLowerCase() ?? '' };
    const text = (node) => {
      const c = node.cloneNode(true);
      c.querySelectorAll?.('[aria-hidden=true], .sr-only[role=status]').forEach((n) => n.remove());
      return c.textContent.replace(/\s+/g, ' ').trim();
    };
    const tag = el.tagName.toLowerCase();
    const type = (el.getAttribute('type') || '').toLowerCase();
    const implicit =
      tag === 'a' && el.hasAttribute('href')
        ? 'link'
        : tag === 'button' || tag === 'summary'
          ? 'button'
          : tag === 'select'
            ? 'combobox'
            : tag === 'textarea'
              ? 'textbox'
              : tag === 'input'
                ? { checkbox: 'checkbox', radio: 'radio', search: 'searchbox', button: 'button', submit: 'button', number: 'spinbutton' }[type] ?? 'textbox'
                : tag === 'main'
                  ? 'main'
                  : tag;
    const role = el.getAttribute('role') || implicit;
    let name = '';
    const by = el.getAttribute('aria-labelledby');
    if (by) name = by.split(/\s+/).map((id) => (document.getElementById(id) ? text(document.getElementById(id)) : '')).join(' ');
    if (!name) name = el.getAttribute('aria-label') || '';
    if (!name && el.labels?.length) name = [...el.labels].map(text).join(' ');
    if (!name && ['link', 'button', 'tab', 'option', 'menuitem'].includes(role)) name = text(el);
    if (!name) name = el.getAttribute('title') || el.getAttribute('placeholder') || '';
    // the focus indicator
    const cs = getComputedStyle(el);
    const outline = cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) > 0;
    const shadow = cs.boxShadow && cs.boxShadow !== 'none';
    // the colour behind the outline: the element's own background when the outline is drawn
    // inside it, else the first opaque background of an ancestor
    const parse = (c) => {
      const m = c.match(/rgba?\(([\d.]+),\s*([\d.]+),\s*([\d.]+)(?:,\s*([\d.]+))?\)/);
      return m ? { r: +m[1], g: +m[2], b: +m[3], a: m[4] === undefined ? 1 : +m[4] } : null;
    };
    let behind = null;
    for (let n = parseFloat(cs.outlineOffset) < 0 ? el : el.parentElement; n; n = n.parentElement) {
      const bg = parse(getComputedStyle(n).backgroundColor);
      if (bg && bg.a > 0.5) {
        behind = bg;
        break;
      }
    }
    behind ??= { r: 255, g: 255, b: 255 };
    const lum = ({ r, g, b }) => {
      const f = (v) => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
      return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
    };
    const oc = parse(cs.outlineColor);
    const [hi, lo] = [lum(oc ?? behind), lum(behind)].sort((a, b) => b - a);
    return {
      tag,
      role,
      name: name.replace(/\s+/g, ' ').trim(),
      id: el.id,
      checked: el.checked,
      selected: el.getAttribute('aria-selected'),
      expanded: el.getAttribute('aria-expanded'),
      value: 'value' in el ? el.value : undefined,
      inDialog: !!el.closest('dialog[open]'),
      focusVisible: el.matches(':focus-visible'),
      indicator: outline ? `outline ${cs.outlineStyle} ${cs.outlineWidth} ${cs.outlineColor}` : shadow ? `box-shadow ${cs.boxShadow}` : 'none',
      contrast: outline ? (hi + 0.05) / (lo + 0.05) : shadow ? 99 : 0,
    };
  });
}

const show = (d) => `${d.role} "${d.name}"`;
const matches = (d, role, name) => d.role === role && (name instanceof RegExp ? name.test(d.name) : d.name === name);

/**
 * Presses Tab (Shift+Tab with `back`) until the focused element satisfies `predicate` (given
 * describeFocus's answer), at most `max` times; fails listing every element visited. Every control
 * passed on the way must show its focus and have a name. Returns the element's description.
 */
async function tabTo(p, predicate, max = 60, { back = false } = {}) {
  const seen = [];
  for (let i = 0; i < max; i++) {
    await p.keyboard.press(back ? 'Shift+Tab' : 'Tab');
    const d = await describeFocus(p);
    seen.push(show(d));
    if (d.role !== 'none') {
      assert.ok(d.name, `a ${d.role} (<${d.tag} id="${d.id}">) without a name is in the tab order`);
      assertVisible(d);
    }
    if (predicate(d)) return d;
  }
  throw new Error(`not reached in ${max} ${back ? 'Shift+Tab' : 'Tab'} presses; visited:\n  ${seen.join('\n  ')}`);
}
const tabToRole = (p, role, name, max, opts) => tabTo(p, (d) => matches(d, role, name), max, opts);

/** The focused element is `role` named `name`, with a visible focus indicator. */
async function expectFocus(p, role, name, what = '') {
  const d = await describeFocus(p);
  assert.ok(matches(d, role, name), `${what} focus is on ${show(d)} (${d.tag}), expected ${role} ${name}`);
  assertVisible(d);
  return d;
}

/** A keyboard user sees where the focus is: an outline (contrast ≥ 3:1 with what is behind it) or a box-shadow. */
function assertVisible(d) {
  assert.ok(d.focusVisible, `${show(d)} does not match :focus-visible`);
  assert.notEqual(d.indicator, 'none', `${show(d)} has no focus indicator`);
  assert.ok(d.contrast >= 3, `${show(d)}: focus ${d.indicator} has a contrast of ${d.contrast.toFixed(2)} with its background`);
}

/** A new screen puts the focus on its content (<main>), right after it renders. */
async function expectMainFocused(what) {
  const ok = await page
    .waitForFunction(() => document.activeElement?.tagName === 'MAIN', null, { timeout: 3000 })
    .then(() => true, () => false);
  assert.ok(ok, `${what}: the focus is on ${show(await describeFocus(page))}, not on <main>`);
}

const hash = () => page.evaluate(() => location.hash);
async function waitHash(re) {
  await page.waitForFunction((src) => new RegExp(src).test(location.hash), re.source, { timeout: 5000 });
}

test('sign in with the keyboard', async () => {
  page = await openDashboard(browser, server, { signedIn: false, path: '/login' });
  await page.getByRole('heading', { name: 'Superuser sign-in' }).waitFor();
  // the email input has the focus from the start
  await page.waitForFunction(() => document.activeElement?.type === 'email');
  const email = await describeFocus(page);
  assert.ok(matches(email, 'textbox', 'Email'), `focus on ${show(email)}`);
  await page.keyboard.type(SUPERUSER.email);
  await tabToRole(page, 'textbox', 'Password', 3);
  await expectFocus(page, 'textbox', 'Password');
  await page.keyboard.type(SUPERUSER.password);
  await page.keyboard.press('Enter');
  await page.getByRole('navigation', { name: 'Main' }).waitFor();
  await waitHash(/^#\/collections\/\w+/);
  // the focus moved to the signed-in screen, not lost with the sign-in form
  await expectMainFocused('after sign-in');
});

test('the skip link, the collections list and a collection', async () => {
  // from the top of a freshly loaded page: the skip link comes first and moves the focus to the content
  await page.reload();
  await page.getByRole('navigation', { name: 'Main' }).waitFor();
  await page.keyboard.press('Tab');
  await expectFocus(page, 'link', 'Skip to the content', 'first Tab:');
  await page.keyboard.press('Enter');
  await expectMainFocused('the skip link');
  // the collections list in the sidebar
  const posts = await tabToRole(page, 'link', 'posts', 15);
  assertVisible(posts);
  await page.keyboard.press('Enter');
  await waitHash(/^#\/collections\/posts$/);
  await page.getByRole('heading', { name: /posts/ }).waitFor();
  // a new screen starts with the focus on the content
  await expectMainFocused('a change of screen');
  await checkA11y(page, 'keyboard: records');
});

test('a new record by keyboard, saved, and the focus back on "New record"', async () => {
  const btn = await tabToRole(page, 'button', 'New record', 20);
  assertVisible(btn);
  await page.keyboard.press('Enter');
  const dialog = page.getByRole('dialog', { name: 'New posts record' });
  await dialog.waitFor();
  // the focus is inside the dialog, and Tab stays inside it
  let d = await describeFocus(page);
  assert.ok(d.inDialog, `the new-record dialog took the focus (${show(d)})`);
  d = await tabToRole(page, 'textbox', /^title\b/, 10);
  assertVisible(d);
  await page.keyboard.type('Typed by keyboard');
  d = await tabToRole(page, 'checkbox', /^published\b/, 5);
  assertVisible(d);
  assert.equal(d.checked, false);
  await page.keyboard.press('Space');
  assert.equal((await describeFocus(page)).checked, true, 'Space ticks the checkbox');
  d = await tabToRole(page, 'button', 'Create', 10);
  assertVisible(d);
  // Tab goes round within the open dialog (Chromium passes through its own toolbar, shown as
  // "none", but never the page behind) and back to "Create"
  let round = false;
  for (let i = 0; i < 12 && !round; i++) {
    await page.keyboard.press('Tab');
    const x = await describeFocus(page);
    assert.ok(x.inDialog || x.role === 'none', `Tab left the open dialog for ${show(x)}`);
    round = matches(x, 'button', 'Create');
  }
  assert.ok(round, 'Tab came back round to "Create"');
  await page.keyboard.press('Enter');
  await dialog.waitFor({ state: 'detached' });
  const list = await pb.collection('posts').getFullList({ filter: 'title = "Typed by keyboard"' });
  assert.equal(list.length, 1, 'the record was created');
  assert.equal(list[0].published, true, 'with the bool ticked');
  // the focus is back on the button that opened the editor
  await page.waitForFunction(() => document.activeElement && document.activeElement !== document.body);
  await expectFocus(page, 'button', 'New record', 'after saving:');
});

test('open a record from the table, close it with Escape', async () => {
  const rec = await pb.collection('posts').getFirstListItem('title = "First post"');
  const link = await tabToRole(page, 'link', `Open record ${rec.id}`, 25);
  assertVisible(link);
  await page.keyboard.press('Enter');
  const dialog = page.getByRole('dialog', { name: 'Edit posts record' });
  await dialog.waitFor();
  await page.getByRole('textbox', { name: /^title\b/ }).waitFor();
  assert.match(await hash(), new RegExp(`record=${rec.id}`));
  assert.ok((await describeFocus(page)).inDialog, 'the editor took the focus');
  await checkA11y(page, 'keyboard: record editor');
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached' });
  assert.doesNotMatch(await hash(), /record=/);
  // back on the link that opened it (not lost to <body>)
  await page.waitForFunction(() => document.activeElement && document.activeElement !== document.body);
  await expectFocus(page, 'link', `Open record ${rec.id}`, 'after Escape:');
});

test('"/" focuses the records search', async () => {
  await page.keyboard.press('/');
  const d = await expectFocus(page, 'combobox', 'Search the records', 'after "/":');
  assert.equal(d.value, '', 'the "/" is not typed into the search');
  await page.keyboard.type('Typed');
  await page.keyboard.press('Enter');
  await waitHash(/filter=Typed/);
  await page.getByRole('table', { name: /posts/ }).and(page.locator('[aria-busy=false]')).waitFor();
  await page.getByRole('row', { name: /First post/ }).waitFor({ state: 'detached' });
  assert.equal(await page.getByRole('link', { name: /^Open record / }).count(), 1, 'the search found the one record');
  // clear the search again, by keyboard
  await tabToRole(page, 'button', 'Clear the filter', 5);
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => !/filter=/.test(location.hash));
});

test('the collection editor: a new field, the tabs, the rule completion', async () => {
  await page.keyboard.press('Shift+Tab'); // from wherever the clear button left the focus
  const edit = await tabToRole(page, 'link', 'Edit the collection', 30, { back: true });
  assertVisible(edit);
  await page.keyboard.press('Enter');
  await waitHash(/^#\/collections\/posts\/edit$/);
  await page.getByRole('tab', { name: 'Fields' }).waitFor();
  // add a field through the "New field" control: its type menu takes the focus
  const add = await tabToRole(page, 'button', 'New field', 40);
  assertVisible(add);
  assert.equal(add.expanded, 'false');
  await page.keyboard.press('Enter');
  let d = await describeFocus(page);
  assert.equal(d.role, 'button', `the type menu took the focus (${show(d)})`);
  assertVisible(d);
  d = await tabToRole(page, 'button', 'Number', 15);
  await page.keyboard.press('Enter');
  // the new field's name input has the focus, its text selected: typing replaces it
  await page.waitForFunction(() => document.activeElement?.tagName === 'INPUT');
  d = await describeFocus(page);
  assert.ok(matches(d, 'textbox', 'Field name'), `the new field's name has the focus (${show(d)})`);
  await page.keyboard.type('score');
  assert.equal((await describeFocus(page)).value, 'score');
  // the move buttons reorder it, and the focus stays on the button pressed
  const up = await tabToRole(page, 'button', 'Move score up', 3);
  assertVisible(up);
  await page.keyboard.press('Enter');
  await expectFocus(page, 'button', 'Move score up', 'after moving the field:');
  const order = () => page.$$eval('.cf-item input[id$=-name]', (els) => els.map((e) => e.value));
  assert.deepEqual(await order(), ['id', 'title', 'score', 'published']);
  // the tabs: Shift+Tab reaches the selected one, the arrow keys move between them
  const fieldsTab = await tabToRole(page, 'tab', 'Fields', 60, { back: true });
  assertVisible(fieldsTab);
  assert.equal(fieldsTab.selected, 'true');
  await page.keyboard.press('ArrowRight');
  d = await expectFocus(page, 'tab', 'API rules', 'ArrowRight:');
  assert.equal(d.selected, 'true', 'ArrowRight selects the next tab');
  await page.keyboard.press('ArrowLeft');
  assert.equal((await expectFocus(page, 'tab', 'Fields', 'ArrowLeft:')).selected, 'true');
  await page.keyboard.press('End');
  assert.equal((await expectFocus(page, 'tab', 'API rules', 'End:')).selected, 'true');
  await page.getByRole('tabpanel').getByText('List/Search rule').waitFor();
  // into the panel: the first rule's editor
  d = await tabToRole(page, 'combobox', 'List/Search rule', 5);
  assertVisible(d);
  await page.keyboard.type('tit');
  await page.keyboard.press('Escape'); // closes a popup typing opened, not the page
  assert.equal((await describeFocus(page)).expanded, 'false');
  await page.keyboard.press('Control+Space');
  d = await describeFocus(page);
  assert.equal(d.expanded, 'true', 'Ctrl+Space opens the completion');
  const options = await page.getByRole('option').allTextContents();
  assert.ok(options.some((o) => o.startsWith('title')), `"title" is offered: ${options.join(', ')}`);
  const active = await page.evaluate(() => document.getElementById(document.activeElement.getAttribute('aria-activedescendant'))?.textContent);
  assert.match(active ?? '', /^title/, 'the first option is the active descendant');
  await checkA11y(page, 'keyboard: rule completion');
  await screenshot(page, 'keyboard-rule-completion');
  await page.keyboard.press('Enter');
  d = await describeFocus(page);
  assert.equal(d.value, 'title', 'Enter accepted the completion');
  assert.equal(d.expanded, 'false');
  await page.keyboard.type(" != ''");
  // save with the Save button
  d = await tabToRole(page, 'button', 'Save changes', 40);
  assertVisible(d);
  await page.keyboard.press('Enter');
  await waitHash(/^#\/collections\/posts$/);
  const saved = await pb.collections.getOne('posts');
  assert.deepEqual(
    saved.fields.map((f) => `${f.name}:${f.type}`),
    ['id:text', 'title:text', 'score:number', 'published:bool'],
    'the number field was added where it was moved',
  );
  assert.equal(saved.listRule, "title != ''");
  await expectMainFocused('after saving the collection');
});

test('Settings and Logs through the main navigation, "/" on the logs', async () => {
  const settings = await tabToRole(page, 'link', 'Settings', 40, { back: true });
  assertVisible(settings);
  await page.keyboard.press('Enter');
  await waitHash(/^#\/settings$/);
  await page.getByRole('heading', { name: /Application/ }).waitFor();
  await expectMainFocused('Settings');
  // the settings' own navigation, then the section's first input
  const mail = await tabToRole(page, 'link', 'Mail settings', 5);
  assertVisible(mail);
  await tabTo(page, (x) => x.role === 'textbox', 10);
  assertVisible(await describeFocus(page));
  await checkA11y(page, 'keyboard: settings');

  const logs = await tabToRole(page, 'link', 'Logs', 30, { back: true });
  assertVisible(logs);
  await page.keyboard.press('Enter');
  await waitHash(/^#\/logs$/);
  await page.getByRole('heading', { name: 'Logs' }).waitFor();
  await expectMainFocused('Logs');
  await page.keyboard.press('/');
  const search = await expectFocus(page, 'combobox', 'Search the logs', 'after "/" on the logs:');
  assert.equal(search.value, '');
  await page.keyboard.type('posts');
  await page.keyboard.press('Enter');
  await waitHash(/filter=posts/);
  // the requests of this test were a superuser's: include them (Space on the checkbox)
  const su = await tabToRole(page, 'checkbox', 'Include requests by superusers', 5);
  assertVisible(su);
  await page.keyboard.press('Space');
  assert.equal((await describeFocus(page)).checked, true);
  await page.getByRole('link', { name: /posts/ }).first().waitFor();
  await page.locator('.logs-page .table-wrap[aria-busy=false]').waitFor();
  // the first log entry opens by keyboard, and Escape closes it with the focus back on its link
  const entry = await tabTo(page, (x) => x.role === 'link' && /posts/.test(x.name), 20);
  assertVisible(entry);
  await page.keyboard.press('Enter');
  const detail = page.getByRole('dialog');
  await detail.waitFor();
  await page.keyboard.press('Escape');
  await detail.waitFor({ state: 'detached' }).catch(() => detail.waitFor({ state: 'hidden' }));
  await page.waitForFunction(() => document.activeElement && document.activeElement !== document.body);
  const back = await describeFocus(page);
  assert.ok(back.role === 'link' && /posts/.test(back.name), `after closing the log the focus is on ${show(back)}`);
  assertVisible(back);
});

test('switch the language with the keyboard', async () => {
  const lang = await tabToRole(page, 'combobox', 'Language', 40, { back: true });
  assertVisible(lang);
  assert.equal(lang.value, 'en');
  await page.keyboard.press('ArrowDown');
  await page.getByRole('navigation', { name: 'Hauptmenü' }).waitFor();
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'de');
  // the focus stays on the switch, now named in German
  const d = await expectFocus(page, 'combobox', 'Sprache', 'after the switch:');
  assert.equal(d.value, 'de');
  await page.keyboard.press('ArrowUp');
  await page.getByRole('navigation', { name: 'Main' }).waitFor();
  assertNoProblems(page);
});
