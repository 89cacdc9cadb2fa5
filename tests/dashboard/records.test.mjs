// The records of a collection: the table (search, sort, columns, paging), the editor with every
// field type (a file and a relation picked in the picker), duplicate, delete, bulk delete, live
// updates from another client, and the API panel.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertNoProblems, checkA11y, launchBrowser, openDashboard, screenshot, startKiln } from './harness.mjs';

const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');

let browser;
before(async () => (browser = await launchBrowser()));
after(async () => browser?.close());

async function setup(pb) {
  const tags = await pb.collections.create({
    name: 'tags',
    type: 'base',
    fields: [{ name: 'name', type: 'text', required: true, presentable: true }],
  });
  await pb.collections.create({
    name: 'posts',
    type: 'base',
    fields: [
      { name: 'title', type: 'text', required: true },
      { name: 'body', type: 'editor' },
      { name: 'views', type: 'number' },
      { name: 'published', type: 'bool' },
      { name: 'contact', type: 'email' },
      { name: 'site', type: 'url' },
      { name: 'due', type: 'date' },
      { name: 'kind', type: 'select', maxSelect: 1, values: ['news', 'blog'] },
      { name: 'labels', type: 'select', maxSelect: 2, values: ['red', 'green', 'blue'] },
      { name: 'meta', type: 'json', maxSize: 10000 },
      { name: 'cover', type: 'file', maxSelect: 1, maxSize: 1000000 },
      { name: 'tag', type: 'relation', collectionId: tags.id, maxSelect: 1 },
      { name: 'place', type: 'geoPoint' },
      { name: 'created', type: 'autodate', onCreate: true, onUpdate: false },
      { name: 'updated', type: 'autodate', onCreate: true, onUpdate: true },
    ],
  });
  const alpha = await pb.collection('tags').create({ name: 'alpha' });
  await pb.collection('tags').create({ name: 'beta' });
  for (const [title, views] of [
    ['Zebra', 3],
    ['Apple', 10],
    ['Mango', 7],
  ]) {
    await pb.collection('posts').create({ title, views, kind: 'news', tag: alpha.id, meta: { n: views } });
  }
  return { alpha };
}

const titles = (page) => page.locator('table.rec-table tbody tr td.rec-col-title').allTextContents();

test('records: table, editor, picker, duplicate, delete, bulk delete, live, API panel', async () => {
  const server = await startKiln();
  try {
    const pb = await server.pb();
    const { alpha } = await setup(pb);
    // bulk delete goes through the batch API when it is on
    await pb.settings.update({ batch: { enabled: true, maxRequests: 50, timeout: 3, maxBodySize: 0 } });
    const page = await openDashboard(browser, server, { path: '/collections/posts' });
    const table = page.getByRole('table', { name: 'Records of posts' });
    await table.getByRole('cell', { name: 'Zebra' }).waitFor();
    assert.equal(await table.locator('tbody tr').count(), 3);
    // the relation shows the related record's presentable field
    await table.getByText('alpha').first().waitFor();
    await checkA11y(page, 'records table');
    await screenshot(page, 'records');

    // sort by a column: descending first, then ascending
    const titleHeader = table.getByRole('columnheader', { name: 'title' });
    await titleHeader.getByRole('button').click();
    await page.waitForFunction(() => location.hash.includes('sort=-title'));
    await assert.doesNotReject(async () => {
      for (let i = 0; i < 50 && (await titles(page)).join() !== 'Zebra,Mango,Apple'; i++) await page.waitForTimeout(100);
    });
    assert.deepEqual(await titles(page), ['Zebra', 'Mango', 'Apple']);
    assert.equal(await titleHeader.getAttribute('aria-sort'), 'descending');
    await titleHeader.getByRole('button').click();
    await page.waitForFunction(() => location.hash.includes('sort=title'));
    await page.waitForFunction(() => [...document.querySelectorAll('table.rec-table tbody td.rec-col-title')].map((e) => e.textContent).join() === 'Apple,Mango,Zebra');
    assert.equal(await titleHeader.getAttribute('aria-sort'), 'ascending');

    // search with a filter, then with a plain word
    const search = page.getByLabel('Search the records');
    await search.fill('views > 5');
    await search.press('Enter');
    await page.waitForFunction(() => new URLSearchParams(location.hash.split('?')[1]).get('filter') === 'views > 5');
    await page.waitForFunction(() => document.querySelectorAll('table.rec-table tbody tr').length === 2);
    assert.deepEqual(await titles(page), ['Apple', 'Mango']);
    await search.fill('zeb');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.waitForFunction(() => document.querySelectorAll('table.rec-table tbody tr').length === 1);
    assert.deepEqual(await titles(page), ['Zebra']);

    // the API panel shows the list request as filtered, sorted and paged
    await page.getByRole('button', { name: 'API', exact: true }).click();
    const api = page.getByRole('dialog', { name: 'API of posts' });
    await api.waitFor();
    const apiText = await api.textContent();
    assert.match(apiText, /await pb\.collection\('posts'\)\.getList\(1, 30, \{ filter: 'id ~ "zeb" \|\| title ~ "zeb"[^']*', sort: "title", expand: "tag" \}\)/);
    assert.match(apiText, /curl -G '[^']+\/api\/collections\/posts\/records'/);
    assert.match(apiText, /--data-urlencode 'filter=id ~ "zeb" \|\| title ~ "zeb"/);
    assert.match(apiText, /--data-urlencode 'sort=title'/);
    await checkA11y(page, 'API panel');
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
    await api.getByRole('button', { name: 'Copy curl: the list' }).click();
    await page.getByRole('status').getByText('Copied to the clipboard.').waitFor();
    assert.match(await page.evaluate(() => navigator.clipboard.readText()), /^curl -G '[^']+\/api\/collections\/posts\/records'/);
    await api.getByRole('button', { name: 'Close' }).click();
    await page.getByRole('button', { name: 'Clear the filter' }).first().click();
    await page.waitForFunction(() => document.querySelectorAll('table.rec-table tbody tr').length === 3);

    // a new record: the API's error next to its field, then a text, a file and a relation
    await page.getByRole('button', { name: 'New record' }).click();
    const editor = page.getByRole('dialog', { name: 'New posts record' });
    await editor.waitFor();
    await editor.getByRole('button', { name: 'Create' }).click();
    await editor.locator('.field.has-error', { hasText: 'title' }).getByRole('alert').waitFor();
    assert.equal(await editor.getByLabel('title').getAttribute('aria-invalid'), 'true');
    await editor.getByLabel('title').fill('Hello');
    await editor.getByLabel('views').fill('42');
    await editor.getByLabel('published').check();
    await editor.getByLabel('kind').selectOption('blog');
    await editor.getByRole('textbox', { name: 'meta JSON' }).fill('{"a": 1');
    await editor.getByText('Not valid JSON', { exact: false }).waitFor();
    await editor.getByRole('textbox', { name: 'meta JSON' }).fill('{"a": 1}');
    await editor.getByLabel('due Date', { exact: true }).fill('2024-05-01T10:30:00');
    await editor.getByLabel('Upload to cover').setInputFiles({ name: 'pic.png', mimeType: 'image/png', buffer: PNG });
    await editor.getByText('pic.png').waitFor();
    await editor.getByRole('button', { name: 'Choose a record for tag' }).click();
    const picker = page.getByRole('dialog', { name: 'Choose from tags' });
    await picker.getByRole('radio', { name: 'Choose beta' }).waitFor();
    await checkA11y(page, 'relation picker');
    await picker.getByLabel('Search the related records').fill('alp');
    await picker.getByLabel('Search the related records').press('Enter');
    await picker.getByRole('radio', { name: 'Choose beta' }).waitFor({ state: 'detached' });
    await picker.getByRole('radio', { name: 'Choose alpha' }).check();
    await picker.getByRole('button', { name: 'Use the chosen' }).click();
    await editor.getByRole('button', { name: 'Remove alpha' }).waitFor();
    // the HTML field renders in a sandboxed frame
    await editor.getByRole('textbox', { name: 'body Rich text' }).fill('<p>Hi <b>there</b></p>');
    await editor.getByRole('button', { name: 'Show the preview' }).click();
    await page.frameLocator('iframe[title="Preview of body"]').getByText('there').waitFor();
    await checkA11y(page, 'record editor');
    await editor.locator('.modal-body').evaluate((e) => (e.scrollTop = 0));
    await screenshot(page, 'record-editor');
    await editor.getByRole('button', { name: 'Create' }).click();
    await editor.waitFor({ state: 'detached' });
    const created = await pb.collection('posts').getFirstListItem('title = "Hello"');
    assert.equal(created.views, 42);
    assert.equal(created.published, true);
    assert.equal(created.kind, 'blog');
    assert.deepEqual(created.meta, { a: 1 });
    assert.equal(created.due, '2024-05-01 10:30:00.000Z');
    assert.equal(created.tag, alpha.id);
    assert.equal(created.body, '<p>Hi <b>there</b></p>');
    assert.match(created.cover, /^pic_\w+\.png$/);
    await table.getByRole('cell', { name: 'Hello' }).waitFor();

    // edit it
    await table.getByRole('link', { name: `Open record ${created.id}` }).click();
    const edit = page.getByRole('dialog', { name: 'Edit posts record' });
    await edit.getByLabel('title').waitFor();
    assert.equal(await edit.getByLabel('title').inputValue(), 'Hello');
    assert.match(await edit.getByLabel('due Date', { exact: true }).inputValue(), /^2024-05-01T10:30(:00)?$/);
    await edit.getByLabel('title').fill('Hello again');
    await edit.getByRole('button', { name: 'Save' }).click();
    await edit.waitFor({ state: 'detached' });
    assert.equal((await pb.collection('posts').getOne(created.id)).title, 'Hello again');
    await table.getByRole('cell', { name: 'Hello again' }).waitFor();

    // duplicate it: the copy has the values but not the file
    await table.getByRole('cell', { name: 'Hello again' }).click();
    await edit.getByLabel('title').waitFor();
    await edit.getByRole('button', { name: 'Duplicate' }).click();
    const dup = page.getByRole('dialog', { name: 'New posts record' });
    await dup.getByLabel('title').waitFor();
    assert.equal(await dup.getByLabel('title').inputValue(), 'Hello again');
    await dup.getByLabel('title').fill('Hello copy');
    await dup.getByRole('button', { name: 'Create' }).click();
    await dup.waitFor({ state: 'detached' });
    const copy = await pb.collection('posts').getFirstListItem('title = "Hello copy"');
    assert.equal(copy.views, 42);
    assert.equal(copy.tag, alpha.id);
    assert.equal(copy.cover, '');

    // delete it
    await table.getByRole('link', { name: `Open record ${copy.id}` }).click();
    await edit.getByLabel('title').waitFor();
    await edit.getByRole('button', { name: 'Delete' }).click();
    const ask = page.getByRole('dialog', { name: 'Delete this record?' });
    await ask.getByRole('button', { name: 'Delete' }).click();
    await edit.waitFor({ state: 'detached' });
    await assert.rejects(pb.collection('posts').getOne(copy.id));
    await table.getByRole('cell', { name: 'Hello copy' }).waitFor({ state: 'detached' });

    // bulk delete two
    const zebra = await pb.collection('posts').getFirstListItem('title = "Zebra"');
    const mango = await pb.collection('posts').getFirstListItem('title = "Mango"');
    await table.getByRole('checkbox', { name: `Select record ${zebra.id}` }).check();
    await table.getByRole('checkbox', { name: `Select record ${mango.id}` }).check();
    await page.getByRole('button', { name: 'Delete 2 records' }).click();
    const batchRequest = page.waitForRequest((r) => new URL(r.url()).pathname === '/api/batch' && r.method() === 'POST');
    await page.getByRole('dialog', { name: 'Delete the selected records?' }).getByRole('button', { name: 'Delete' }).click();
    assert.equal(((await batchRequest).postData() ?? '').match(/"method":"DELETE"/g)?.length, 2);
    await table.getByRole('cell', { name: 'Zebra' }).waitFor({ state: 'detached' });
    await table.getByRole('cell', { name: 'Mango' }).waitFor({ state: 'detached' });
    const left = (await pb.collection('posts').getFullList()).map((r) => r.title).sort();
    assert.deepEqual(left, ['Apple', 'Hello again']);

    // another client's changes appear live
    await page.waitForTimeout(300);
    const other = await server.pb();
    const live = await other.collection('posts').create({ title: 'Live one', views: 1 });
    await table.getByRole('cell', { name: 'Live one' }).waitFor({ timeout: 10_000 });
    await other.collection('posts').update(live.id, { title: 'Live changed' });
    await table.getByRole('cell', { name: 'Live changed' }).waitFor({ timeout: 10_000 });
    await other.collection('posts').delete(live.id);
    await table.getByRole('cell', { name: 'Live changed' }).waitFor({ state: 'detached', timeout: 10_000 });

    // the API panel of an open record
    await table.getByRole('link', { name: `Open record ${created.id}` }).click();
    await edit.getByLabel('title').waitFor();
    await edit.getByRole('button', { name: 'API' }).click();
    await api.waitFor();
    const one = await api.textContent();
    assert.ok(one.includes(`await pb.collection('posts').getOne('${created.id}', { expand: "tag" });`), one);
    assert.ok(one.includes(`/api/collections/posts/records/${created.id}'`), one);
    await api.getByRole('button', { name: 'Close' }).click();
    await edit.getByRole('button', { name: 'Cancel' }).click();
    await edit.waitFor({ state: 'detached' });

    // the hidden columns are kept per collection
    await page.getByRole('button', { name: 'Columns' }).click();
    await page.getByRole('checkbox', { name: 'body' }).uncheck();
    await table.getByRole('columnheader', { name: 'body' }).waitFor({ state: 'detached' });
    await page.reload();
    await table.getByRole('cell', { name: 'Apple' }).waitFor();
    assert.equal(await table.getByRole('columnheader', { name: 'body' }).count(), 0);

    assertNoProblems(page, [/status of 400/]);
  } finally {
    await server.stop();
  }
});

test('records: auth records (email, password, verification, impersonate) and read-only views', async () => {
  const server = await startKiln();
  try {
    const pb = await server.pb();
    await pb.collections.create({ name: 'notes', type: 'base', fields: [{ name: 'text', type: 'text' }] });
    await pb.collection('notes').create({ text: 'first note' });
    await pb.collections.create({ name: 'note_view', type: 'view', viewQuery: 'SELECT id, text FROM notes' });
    const page = await openDashboard(browser, server, { path: '/collections/users' });
    await page.getByRole('table', { name: 'Records of users' }).waitFor();
    await page.getByRole('button', { name: 'New record' }).first().click();
    const editor = page.getByRole('dialog', { name: 'New users record' });
    await editor.getByLabel('email', { exact: true }).fill('ann@example.com');
    await editor.getByLabel(/^Password( \*)?$/).fill('a-long-password');
    await editor.getByLabel(/^Password again/).fill('another-password');
    await editor.getByRole('button', { name: 'Create' }).click();
    await editor.locator('.field.has-error', { hasText: 'Password again' }).getByRole('alert').waitFor();
    await editor.getByLabel(/^Password again/).fill('a-long-password');
    await editor.getByRole('button', { name: 'Create' }).click();
    await editor.waitFor({ state: 'detached' });
    const ann = await pb.collection('users').getFirstListItem('email = "ann@example.com"');
    assert.equal(ann.verified, false);
    // the password works
    const res = await fetch(`${server.url}/api/collections/users/auth-with-password`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ identity: 'ann@example.com', password: 'a-long-password' }),
    });
    assert.equal(res.status, 200);

    await page.getByRole('link', { name: `Open record ${ann.id}` }).click();
    const edit = page.getByRole('dialog', { name: 'Edit users record' });
    await edit.getByText('Not verified').waitFor();
    await edit.getByRole('button', { name: 'Send a verification email' }).click();
    await page.getByRole('status').getByText('A verification email is on its way to ann@example.com.').waitFor();
    await checkA11y(page, 'auth record editor');
    await edit.getByRole('button', { name: 'Impersonate' }).click();
    const imp = page.getByRole('dialog', { name: /ann@example\.com/ });
    await imp.waitFor();
    await imp.getByRole('button', { name: 'Close' }).first().click();
    await imp.waitFor({ state: 'hidden' });
    await edit.getByLabel('Verified', { exact: true }).check();
    await edit.getByRole('button', { name: 'Save' }).click();
    await edit.waitFor({ state: 'detached' });
    assert.equal((await pb.collection('users').getOne(ann.id)).verified, true);

    // paging and the per-page choice
    for (let i = 0; i < 12; i++) await pb.collection('notes').create({ text: `note ${i}` });
    await page.getByRole('link', { name: 'notes', exact: true }).click();
    const notes = page.getByRole('table', { name: 'Records of notes' });
    await notes.getByRole('cell', { name: 'note 11' }).waitFor();
    await page.getByLabel('Per page').selectOption('10');
    await page.getByText('Page 1 of 2').waitFor();
    assert.equal(await notes.locator('tbody tr').count(), 10);
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByText('Page 2 of 2').waitFor();
    await page.waitForFunction(() => new URLSearchParams(location.hash.split('?')[1]).get('page') === '2');
    assert.equal(await notes.locator('tbody tr').count(), 3);

    // a view's records are read-only
    await page.getByRole('link', { name: 'note_view' }).click();
    const table = page.getByRole('table', { name: 'Records of note_view' });
    await table.getByRole('cell', { name: 'first note' }).waitFor();
    assert.equal(await page.getByRole('button', { name: 'New record' }).count(), 0);
    assert.equal(await table.getByRole('checkbox').count(), 0);
    await table.getByRole('cell', { name: 'first note' }).click();
    const view = page.getByRole('dialog', { name: 'note_view record' });
    await view.waitFor();
    assert.equal(await view.getByRole('button', { name: 'Save' }).count(), 0);
    assert.equal(await view.getByRole('button', { name: 'Delete' }).count(), 0);
    assert.equal(await view.getByLabel('text', { exact: false }).first().isDisabled(), true);
    assertNoProblems(page, [/status of 400/]);
  } finally {
    await server.stop();
  }
});
