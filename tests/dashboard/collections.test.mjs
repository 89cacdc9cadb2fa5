// The collection editor (fields of every type, rules, indexes, rename/remove, view queries,
// delete) and the import/export of collections, walked through as a user would.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertNoProblems, checkA11y, launchBrowser, openDashboard, screenshot, startKiln } from './harness.mjs';

let browser;
let server;
let pb;
before(async () => {
  browser = await launchBrowser();
  server = await startKiln();
  pb = await server.pb();
});
after(async () => {
  await server?.stop();
  await browser?.close();
});

// the server answers 400 on purpose where a test provokes an error
const EXPECTED = [/status of 400/, /status of 404/];

/** Adds a field of `typeLabel` named `name` through the "New field" menu. */
async function addField(page, typeLabel, name) {
  await page.getByRole('button', { name: 'New field' }).click();
  await page.getByRole('group', { name: 'Type of the new field' }).getByRole('button', { name: typeLabel, exact: true }).click();
  const input = page.getByLabel('Field name', { exact: true }).last();
  await input.fill(name);
  return page.locator('.cf-item').last();
}

/** The name input of the field now named `name`. */
async function fieldNameInput(page, name) {
  const inputs = page.getByLabel('Field name', { exact: true });
  await inputs.first().waitFor();
  for (let i = 0; i < (await inputs.count()); i++) if ((await inputs.nth(i).inputValue()) === name) return inputs.nth(i);
  throw new Error(`no field named ${name}`);
}

test('create a base collection with a field of every type', async () => {
  const page = await openDashboard(browser, server, { path: '/collections/new' });
  await page.getByRole('heading', { name: 'New collection' }).waitFor();
  await page.getByRole('textbox', { name: 'Name', exact: true }).fill('things');

  let card = await addField(page, 'Plain text', 'f_text');
  await card.getByLabel('Min length').fill('2');
  await card.getByLabel('Validation pattern').fill('^[a-z ]+$');
  card = await addField(page, 'Number', 'f_number');
  await card.getByLabel('No decimals').check();
  await card.getByLabel('Max', { exact: true }).fill('100');
  await addField(page, 'Bool', 'f_bool');
  card = await addField(page, 'Email', 'f_email');
  await card.getByLabel('Only domains').fill('example.com, example.org');
  card = await addField(page, 'URL', 'f_url');
  await card.getByLabel('Except domains').fill('bad.example');
  card = await addField(page, 'Rich editor', 'f_editor');
  await card.getByLabel('Strip the domain of URLs').check();
  await addField(page, 'Date and time', 'f_date');
  card = await addField(page, 'Autodate', 'f_autodate');
  await card.getByRole('button', { name: 'Options of f_autodate' }).click();
  await card.getByLabel('Set automatically on').selectOption('both');
  card = await addField(page, 'Select', 'f_select');
  await card.getByLabel('Choices').fill('red\ngreen\nblue');
  await card.getByLabel('Selection').selectOption('multiple');
  await card.getByLabel('Max select').fill('2');
  card = await addField(page, 'File', 'f_file');
  await card.getByRole('button', { name: 'Images' }).click();
  await card.getByLabel('Protected').check();
  await card.getByLabel('Thumb sizes').fill('100x100, 0x300');
  card = await addField(page, 'Relation', 'f_relation');
  await card.getByRole('combobox', { name: 'Collection', exact: true }).selectOption({ label: 'users' });
  await card.getByLabel('Cascade delete').check();
  card = await addField(page, 'JSON', 'f_json');
  await card.getByLabel('Max size (bytes)').fill('2000');
  await addField(page, 'Geo point', 'f_geo');
  // reorder by keyboard-accessible buttons: bool above number
  await page.getByRole('button', { name: 'Move f_bool up' }).click();

  await checkA11y(page, 'collection-editor');
  // the list of fields at a glance: every options panel closed, scrolled to the top
  const openPanels = page.locator('.cf-head button[aria-expanded="true"]');
  while ((await openPanels.count()) > 0) await openPanels.first().click();
  await page.evaluate(() => window.scrollTo(0, 0));
  await screenshot(page, 'collection-editor');
  await page.getByRole('button', { name: 'Create', exact: true }).click();
  await page.waitForURL(/#\/collections\/things$/);

  const c = await pb.collections.getOne('things');
  const f = Object.fromEntries(c.fields.map((x) => [x.name, x]));
  assert.deepEqual(
    c.fields.map((x) => x.name),
    ['id', 'created', 'updated', 'f_text', 'f_bool', 'f_number', 'f_email', 'f_url', 'f_editor', 'f_date', 'f_autodate', 'f_select', 'f_file', 'f_relation', 'f_json', 'f_geo'],
  );
  assert.equal(f.f_text.type, 'text');
  assert.equal(f.f_text.min, 2);
  assert.equal(f.f_text.pattern, '^[a-z ]+$');
  assert.equal(f.f_number.onlyInt, true);
  assert.equal(f.f_number.max, 100);
  assert.equal(f.f_bool.type, 'bool');
  assert.deepEqual(f.f_email.onlyDomains, ['example.com', 'example.org']);
  assert.deepEqual(f.f_url.exceptDomains, ['bad.example']);
  assert.equal(f.f_editor.convertURLs, true);
  assert.equal(f.f_date.type, 'date');
  assert.equal(f.f_autodate.onCreate && f.f_autodate.onUpdate, true);
  assert.deepEqual(f.f_select.values, ['red', 'green', 'blue']);
  assert.equal(f.f_select.maxSelect, 2);
  assert.ok(f.f_file.mimeTypes.includes('image/png'));
  assert.equal(f.f_file.protected, true);
  assert.deepEqual(f.f_file.thumbs, ['100x100', '0x300']);
  assert.equal(f.f_relation.collectionId, (await pb.collections.getOne('users')).id);
  assert.equal(f.f_relation.cascadeDelete, true);
  assert.equal(f.f_json.maxSize, 2000);
  assert.equal(f.f_geo.type, 'geoPoint');
  assertNoProblems(page, EXPECTED);
});

test('a bad rule shows the server error next to it; an index; rename and remove a field', async () => {
  const page = await openDashboard(browser, server, { path: '/collections/things/edit' });
  await page.getByRole('tab', { name: 'API rules' }).click();
  await page.getByRole('group', { name: 'List/Search rule' }).getByRole('button', { name: 'Unlock and set a custom rule' }).click();
  await page.getByLabel('List/Search rule').fill('nosuchfield = 1');
  await page.getByRole('button', { name: 'Save changes' }).click();
  const ruleField = page.locator('.rule-field.has-error', { hasText: 'List/Search rule' });
  await ruleField.getByRole('alert').filter({ hasText: /nosuchfield/ }).waitFor();
  // a field error shows next to the field (here in the Fields tab, marked as having errors)
  await page.getByRole('tab', { name: 'Fields' }).click();
  await addField(page, 'Number', 'f_bool');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await page.locator('.cf-item.cf-error').last().getByRole('alert').first().waitFor();
  await page.getByRole('button', { name: 'Remove f_bool' }).last().click();
  await page.getByRole('tab', { name: 'API rules' }).click();
  await checkA11y(page, 'collection-rules');
  await screenshot(page, 'collection-rules');
  await page.getByLabel('List/Search rule').fill('f_bool = true');

  // an index on f_text, unique
  await page.getByRole('tab', { name: 'Fields' }).click();
  await page.getByRole('button', { name: 'New index' }).click();
  const dialog = page.getByRole('dialog', { name: 'New index' });
  await dialog.getByRole('checkbox', { name: 'f_text' }).check();
  await dialog.getByLabel('Unique', { exact: true }).check();
  await checkA11y(page, 'index-dialog');
  await dialog.getByRole('button', { name: 'Add the index' }).click();

  // rename a field (the index follows), remove one, restore it, remove it again
  await (await fieldNameInput(page, 'f_text')).fill('title');
  await page.getByRole('button', { name: 'Remove f_json' }).click();
  await page.getByRole('button', { name: 'Restore f_json' }).click();
  await page.getByRole('button', { name: 'Remove f_json' }).click();
  await page.getByRole('button', { name: 'Save changes' }).click();
  await page.waitForURL(/#\/collections\/things$/);

  const c = await pb.collections.getOne('things');
  assert.equal(c.listRule, 'f_bool = true');
  assert.ok(c.fields.some((f) => f.name === 'title'));
  assert.ok(!c.fields.some((f) => f.name === 'f_json' || f.name === 'f_text'));
  assert.equal(c.indexes.length, 1);
  assert.match(c.indexes[0], /^CREATE UNIQUE INDEX .* ON `things` \(`title`\)$/);
  assertNoProblems(page, EXPECTED);
});

test('a view collection with a dry run', async () => {
  await pb.collection('things').create({ title: 'one', f_bool: true, f_relation: null });
  const page = await openDashboard(browser, server, { path: '/collections/new' });
  await page.getByRole('textbox', { name: 'Name', exact: true }).fill('things_view');
  await page.getByLabel('Type').selectOption('view');
  await page.getByRole('tab', { name: 'Query' }).waitFor();
  const query = page.getByLabel('SELECT query');
  await query.fill('SELECT id, nope FROM things');
  await page.getByRole('button', { name: 'Dry run' }).click();
  await page.getByRole('alert').filter({ hasText: /nope/ }).waitFor();
  await query.fill('SELECT id, title, f_bool AS active FROM things');
  await page.getByRole('button', { name: 'Dry run' }).click();
  await page.getByRole('heading', { name: 'The query yields 3 fields' }).waitFor();
  await page.getByRole('cell', { name: 'active' }).waitFor();
  await checkA11y(page, 'view-query');
  await page.getByRole('button', { name: 'Create', exact: true }).click();
  await page.waitForURL(/#\/collections\/things_view$/);
  const v = await pb.collections.getOne('things_view');
  assert.equal(v.type, 'view');
  assert.deepEqual(v.fields.map((f) => f.name).sort(), ['active', 'id', 'title']);
  assertNoProblems(page, EXPECTED);
});

test('an auth collection from its scaffold', async () => {
  const page = await openDashboard(browser, server, { path: '/collections/new' });
  await page.getByRole('textbox', { name: 'Name', exact: true }).fill('members');
  await page.getByLabel('Type').selectOption('auth');
  await page.getByRole('tab', { name: 'Options' }).waitFor();
  assert.equal(await (await fieldNameInput(page, 'email')).isDisabled(), true, 'system fields are locked');
  await addField(page, 'Password', 'x'); // offered only to auth collections
  await page.getByRole('button', { name: 'Remove x' }).click();
  await addField(page, 'Plain text', 'nickname');
  await page.getByRole('tab', { name: 'API rules' }).click();
  await page.getByLabel('Authentication rule').fill('verified = true');
  await checkA11y(page, 'auth-collection-rules');
  await page.getByRole('button', { name: 'Create', exact: true }).click();
  await page.waitForURL(/#\/collections\/members$/);
  const c = await pb.collections.getOne('members');
  assert.equal(c.type, 'auth');
  assert.equal(c.authRule, 'verified = true');
  assert.ok(c.fields.some((f) => f.name === 'nickname'));
  assert.ok(c.indexes.every((i) => i.includes('`members`')), c.indexes.join('\n'));
  assertNoProblems(page, EXPECTED);
});

test('export, then import with a preview', async () => {
  const page = await openDashboard(browser, server, { path: '/settings/export-collections' });
  await page.getByRole('heading', { name: 'Export collections' }).waitFor();
  const json = page.getByLabel('JSON', { exact: true });
  await json.waitFor();
  const all = JSON.parse(await json.inputValue());
  assert.ok(all.some((c) => c.name === 'things') && all.some((c) => c.name === 'users'));
  await page.getByRole('checkbox', { name: 'All collections' }).uncheck();
  await page.getByRole('checkbox', { name: 'things', exact: true }).check();
  const one = JSON.parse(await json.inputValue());
  assert.deepEqual(one.map((c) => c.name), ['things']);
  assert.equal(one[0].created, undefined);
  await checkA11y(page, 'export');

  // change the export: a new field and rule on things, and a new collection
  const things = one[0];
  things.fields.push({ name: 'extra', type: 'number' });
  // a field left out of the import stays unless "delete missing" is on
  things.fields = things.fields.filter((f) => f.name !== 'f_geo');
  things.viewRule = '';
  const incoming = [things, { name: 'imported_new', type: 'base', fields: [{ name: 'label', type: 'text' }] }];

  await page.getByRole('link', { name: 'Import collections' }).click();
  await page.getByRole('heading', { name: 'Import collections' }).waitFor();
  const area = page.getByLabel('Collections (JSON)');
  await area.fill('[not json');
  await page.getByText('This is not valid JSON.').waitFor();
  await area.fill(JSON.stringify(incoming));
  await page.getByText('1 added').waitFor();
  await page.getByText('1 changed').waitFor();
  const deleteMissing = page.getByRole('checkbox', { name: 'Delete collections and fields missing from the import' });
  await deleteMissing.check();
  await page.getByText('3 deleted').waitFor(); // things_view, members, users
  await page.getByRole('button', { name: 'Review' }).click();
  let dialog = page.getByRole('dialog', { name: 'Review the import' });
  await dialog.getByText('Field removed: f_geo').waitFor();
  await dialog.getByText('things_view').waitFor();
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await deleteMissing.uncheck();
  await page.getByRole('button', { name: 'Review' }).click();
  dialog = page.getByRole('dialog', { name: 'Review the import' });
  await dialog.getByText('Field added: extra').waitFor();
  assert.equal(await dialog.getByText('Field removed: f_geo').count(), 0);
  await dialog.getByText(/Settings changed: .*viewRule/).waitFor();
  await dialog.getByText('imported_new').waitFor();
  await checkA11y(page, 'import-preview');
  await screenshot(page, 'import-preview');
  await dialog.getByRole('button', { name: 'Import' }).click();
  await page.getByText('The collections were imported.').waitFor();

  const c = await pb.collections.getOne('things');
  assert.ok(c.fields.some((f) => f.name === 'extra' && f.type === 'number'));
  assert.equal(c.viewRule, '');
  assert.ok(c.fields.some((f) => f.name === 'f_geo'), 'fields not in the import stay (deleteMissing is off)');
  assert.ok((await pb.collections.getOne('things_view')).id);
  const n = await pb.collections.getOne('imported_new');
  assert.ok(n.fields.some((f) => f.name === 'label'));
  assertNoProblems(page, EXPECTED);
});

test('duplicate, truncate and delete a collection', async () => {
  const page = await openDashboard(browser, server, { path: '/collections/imported_new/edit' });
  await page.getByRole('button', { name: 'Duplicate' }).click();
  await page.waitForURL(/#\/collections\/new\?duplicate=imported_new$/);
  assert.equal(await page.getByRole('textbox', { name: 'Name', exact: true }).inputValue(), 'imported_new_copy');
  await page.getByRole('button', { name: 'Create', exact: true }).click();
  await page.waitForURL(/#\/collections\/imported_new_copy$/);
  const copy = await pb.collections.getOne('imported_new_copy');
  assert.ok(copy.fields.some((f) => f.name === 'label'));

  await pb.collection('imported_new').create({ label: 'a' });
  await page.goto(`${server.url}/_/#/collections/imported_new/edit`);
  await page.getByRole('button', { name: 'Delete all records' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Delete all records' }).click();
  await page.getByText('All records of "imported_new" were deleted.').waitFor();
  assert.equal((await pb.collection('imported_new').getList(1, 1)).totalItems, 0);

  // unsaved changes are confirmed before leaving by Cancel
  await page.getByRole('textbox', { name: 'Name', exact: true }).fill('imported_renamed');
  await page.getByRole('button', { name: 'Cancel' }).click();
  await page.getByRole('dialog', { name: 'Discard your changes?' }).getByRole('button', { name: 'Cancel' }).click();
  assert.match(page.url(), /imported_new\/edit$/);
  await page.getByRole('textbox', { name: 'Name', exact: true }).fill('imported_new');

  await page.getByRole('button', { name: 'Delete collection' }).click();
  const dialog = page.getByRole('dialog', { name: 'Delete the collection "imported_new"?' });
  const del = dialog.getByRole('button', { name: 'Delete for good' });
  assert.equal(await del.isDisabled(), true);
  await dialog.getByLabel('Type "imported_new" to confirm').fill('imported_new');
  await checkA11y(page, 'delete-collection');
  await del.click();
  await page.waitForURL(/#\/collections(\/[^/]*)?$/);
  await assert.rejects(pb.collections.getOne('imported_new'), (e) => e.status === 404);
  assertNoProblems(page, EXPECTED);
});
