// The S3 parts of the settings against a real S3-compatible server (moto, ../sdk/services/s3.mjs):
// file storage (turn S3 on, the API's errors, "Test connection" success and failure, a file that
// lands in the bucket, the stored secret kept on later saves) and backups kept in S3 (turn on,
// test, create from the dashboard, see it listed and in the bucket, delete it), and a wrong secret
// against a moto that checks signatures (INITIAL_NO_AUTH_ACTION_COUNT, an IAM user's key).
import { spawnSync } from 'node:child_process';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertNoProblems, checkA11y, launchBrowser, openDashboard, screenshot, startKiln } from './harness.mjs';
import { startS3 } from '../sdk/services/s3.mjs';

let browser;
let s3;
before(async () => {
  [browser, s3] = await Promise.all([launchBrowser(), startS3('kiln-files')]);
});
after(async () => {
  await browser?.close();
  await s3?.stop();
});

/** Polls `fn` (async) until it returns a truthy value; fails after `ms`. */
async function until(fn, what, ms = 8000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => null);
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The keys of `bucket` on the moto server (moto accepts unsigned requests). */
async function keysIn(bucket, prefix = '') {
  const r = await fetch(`${s3.endpoint}/${bucket}?list-type=2&prefix=${encodeURIComponent(prefix)}`);
  assert.equal(r.status, 200, `listing ${bucket}`);
  return [...(await r.text()).matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) => m[1]);
}

/** The body of the next PATCH /api/settings the page sends while `action` runs. */
async function patchBody(page, action) {
  const [req] = await Promise.all([page.waitForRequest((r) => r.method() === 'PATCH' && new URL(r.url()).pathname === '/api/settings'), action()]);
  return req.postDataJSON();
}

/** Fills the S3 fields of the screen (by their labels). */
async function fillS3(page, { bucket, secret, endpoint = s3.endpoint, accessKey = 'kiln-key' }) {
  await page.getByLabel('Endpoint').fill(endpoint);
  await page.getByLabel('Bucket').fill(bucket);
  await page.getByLabel('Region').fill('us-east-1');
  await page.getByLabel('Access key').fill(accessKey);
  if (secret !== undefined) await page.getByLabel('Secret').fill(secret);
  await page.getByLabel('Force path-style addressing').check();
}

const fieldError = (page, label) => page.locator('.field.has-error', { has: page.getByLabel(label) }).getByRole('alert');

test('file storage on S3: the API\u2019s errors, test connection, files in the bucket', async () => {
  const server = await startKiln();
  try {
    const api = await server.pb();
    const page = await openDashboard(browser, server, { path: '/settings/storage' });
    await page.getByRole('heading', { name: 'Settings / File storage' }).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Test connection' }).count(), 0, 'no test while S3 is off');

    // S3 on without a bucket and without a secret: refused, each error next to its input, nothing saved
    await page.getByLabel('Use S3 storage').check();
    await fillS3(page, { bucket: '' });
    await page.getByRole('button', { name: 'Save changes' }).click();
    await fieldError(page, 'Bucket').waitFor();
    await fieldError(page, 'Secret').waitFor();
    assert.match(await fieldError(page, 'Bucket').textContent(), /blank/i);
    assert.equal(await page.getByLabel('Bucket').getAttribute('aria-invalid'), 'true');
    await checkA11y(page, 's3 storage refused');
    assert.equal((await api.settings.getAll()).s3.enabled, false, 'nothing saved');
    assert.equal(await page.getByRole('button', { name: 'Test connection' }).count(), 0, 'nothing to test before a save');

    // the full settings: saved, then the connection test succeeds
    await page.getByLabel('Bucket').fill(s3.bucket);
    await page.getByLabel('Secret').fill('kiln-secret');
    assert.equal(await fieldError(page, 'Bucket').count(), 0, 'the error goes once the input changes');
    const sent = await patchBody(page, () => page.getByRole('button', { name: 'Save changes' }).click());
    assert.deepEqual(sent, { s3: { enabled: true, bucket: s3.bucket, region: 'us-east-1', endpoint: s3.endpoint, accessKey: 'kiln-key', secret: 'kiln-secret', forcePathStyle: true } });
    await page.getByRole('status').getByText('Settings saved.').waitFor();
    await page.getByRole('button', { name: 'Test connection' }).click();
    await page.getByText('The S3 storage answered: the connection works.').waitFor();
    assert.equal(await page.getByLabel('Secret').inputValue(), '', 'the stored secret is not shown');
    await checkA11y(page, 's3 storage saved and tested');
    await screenshot(page, 'storage-s3');

    const stored = (await api.settings.getAll()).s3;
    assert.deepEqual(stored, { enabled: true, bucket: s3.bucket, region: 'us-east-1', endpoint: s3.endpoint, accessKey: 'kiln-key', forcePathStyle: true });
    assert.equal(stored.secret, undefined, 'the secret is never sent back');

    // a file uploaded through the API lands in the bucket, and is served back from it
    const docs = await api.collections.create({ name: 'docs', type: 'base', viewRule: '', fields: [{ name: 'title', type: 'text' }, { name: 'attachment', type: 'file', maxSelect: 1 }] });
    const rec = await api.collection('docs').create({ title: 'in s3', attachment: new File(['hello from s3'], 'note.txt', { type: 'text/plain' }) });
    assert.deepEqual(await keysIn(s3.bucket, `${docs.id}/${rec.id}/`), [`${docs.id}/${rec.id}/${rec.attachment}`]);
    const res = await fetch(api.files.getURL(rec, rec.attachment));
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'hello from s3');

    // a bucket that does not exist: saved (the test checks the saved settings), the test shows the API's error
    await page.getByLabel('Bucket').fill('no-such-bucket');
    await page.getByText('The test uses the saved settings.').waitFor();
    const wrong = await patchBody(page, () => page.getByRole('button', { name: 'Save changes' }).click());
    assert.equal('secret' in wrong.s3, false, 'an untouched secret is not sent (so the stored one stays)');
    await until(async () => (await api.settings.getAll()).s3.bucket === 'no-such-bucket', 'the wrong bucket saved');
    // the success shown for the settings before is gone with them
    await page.getByText('The S3 storage answered: the connection works.').waitFor({ state: 'detached', timeout: 5000 });
    await page.getByRole('button', { name: 'Test connection' }).click();
    const failure = page.getByRole('alert').filter({ hasText: 'The connection test failed' });
    await failure.waitFor();
    const text = await failure.textContent();
    assert.match(text, /NoSuchBucket|does not exist/, text);
    await checkA11y(page, 's3 storage test failed');

    // back to the right bucket: the secret typed once is still the stored one (saving again needs none)
    await page.getByLabel('Bucket').fill(s3.bucket);
    await page.getByRole('button', { name: 'Save changes' }).click();
    await until(async () => (await api.settings.getAll()).s3.bucket === s3.bucket, 'the bucket saved back');
    await page.getByRole('button', { name: 'Test connection' }).click();
    await page.getByText('The S3 storage answered: the connection works.').waitFor();
    assert.equal(await failure.count(), 0);
    await api.settings.testS3('storage');

    assertNoProblems(page, [/status of 400/]);
  } finally {
    await server.stop();
  }
});

test('backups on S3: turn on, test, create from the dashboard, listed and in the bucket, delete', async () => {
  const bucket = 'kiln-backups';
  assert.equal((await fetch(`${s3.endpoint}/${bucket}`, { method: 'PUT' })).status, 200);
  const server = await startKiln();
  try {
    const api = await server.pb();
    await api.backups.create('local_one.zip'); // on the local disk, before S3 is on
    const page = await openDashboard(browser, server, { path: '/settings/backups' });
    await page.getByRole('heading', { name: 'Settings / Backups' }).waitFor();
    await page.getByRole('cell', { name: 'local_one.zip', exact: true }).waitFor();

    await page.getByLabel('Store backups in S3 storage').check();
    await fillS3(page, { bucket, secret: 'kiln-secret' });
    await checkA11y(page, 's3 backups form');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByRole('status').getByText('Settings saved.').waitFor();
    const stored = (await api.settings.getAll()).backups.s3;
    assert.deepEqual(stored, { enabled: true, bucket, region: 'us-east-1', endpoint: s3.endpoint, accessKey: 'kiln-key', forcePathStyle: true });

    // the list now shows the backups of the bucket (none yet), not those of the local disk
    await page.getByText('No backups yet.').waitFor();
    assert.equal(await page.getByRole('cell', { name: 'local_one.zip', exact: true }).count(), 0);

    await page.getByRole('button', { name: 'Test connection' }).click();
    await page.getByText('The S3 storage answered: the connection works.').waitFor();
    await checkA11y(page, 's3 backups tested');

    await page.getByRole('button', { name: 'New backup' }).click();
    const dialog = page.getByRole('dialog', { name: 'Create a backup' });
    await dialog.waitFor();
    await dialog.getByLabel('Backup name').fill('on_s3');
    await dialog.getByRole('button', { name: 'Start backup' }).click();
    await page.getByRole('cell', { name: 'on_s3.zip', exact: true }).waitFor({ timeout: 20_000 });
    assert.deepEqual(await keysIn(bucket), ['on_s3.zip']);
    assert.deepEqual((await api.backups.getFullList()).map((b) => b.key), ['on_s3.zip']);
    await checkA11y(page, 's3 backups listed');

    await page.getByRole('button', { name: 'Delete on_s3.zip' }).click();
    const confirmDialog = page.getByRole('dialog', { name: 'Delete the backup?' });
    await confirmDialog.waitFor();
    await checkA11y(page, 's3 backup delete dialog');
    await confirmDialog.getByRole('button', { name: 'Delete' }).click();
    await page.getByText('No backups yet.').waitFor();
    await until(async () => (await keysIn(bucket)).length === 0, 'the backup gone from the bucket');
    assert.deepEqual(await api.backups.getFullList(), []);

    assertNoProblems(page);
  } finally {
    await server.stop();
  }
});

// After its first 4 requests (the bucket, then an IAM user, its key and its policy, made here
// through boto3, which moto needs), this moto checks every request's signature.
const IAM_SETUP = `
import sys, json, boto3
ep = sys.argv[1]
anon = dict(endpoint_url=ep, region_name='us-east-1', aws_access_key_id='AKIAIOSFODNN7EXAMPLE', aws_secret_access_key='x')
iam = boto3.client('iam', **anon)
iam.create_user(UserName='kiln')
k = iam.create_access_key(UserName='kiln')['AccessKey']
iam.put_user_policy(UserName='kiln', PolicyName='all', PolicyDocument=json.dumps({'Version': '2012-10-17', 'Statement': [{'Effect': 'Allow', 'Action': '*', 'Resource': '*'}]}))
boto3.client('s3', endpoint_url=ep, region_name='us-east-1', aws_access_key_id=k['AccessKeyId'], aws_secret_access_key=k['SecretAccessKey']).create_bucket(Bucket='signed-two')
print(json.dumps({'accessKey': k['AccessKeyId'], 'secret': k['SecretAccessKey']}))
`;

test('file storage on S3: a wrong secret fails the test; the secret typed once is kept', async () => {
  process.env.INITIAL_NO_AUTH_ACTION_COUNT = '4';
  let signed;
  try {
    signed = await startS3('signed-one');
  } finally {
    delete process.env.INITIAL_NO_AUTH_ACTION_COUNT;
  }
  const server = await startKiln();
  try {
    const setup = spawnSync(process.env.PYTHON ?? 'python3', ['-c', IAM_SETUP, signed.endpoint], { encoding: 'utf8' });
    assert.equal(setup.status, 0, setup.stderr);
    const key = JSON.parse(setup.stdout);
    const api = await server.pb();
    const page = await openDashboard(browser, server, { path: '/settings/storage' });
    await page.getByRole('heading', { name: 'Settings / File storage' }).waitFor();

    // the right key with a wrong secret: saved, and the test shows the S3 server's refusal
    await page.getByLabel('Use S3 storage').check();
    await fillS3(page, { bucket: 'signed-one', secret: 'not-the-secret', endpoint: signed.endpoint, accessKey: key.accessKey });
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByRole('button', { name: 'Test connection' }).click();
    const failure = page.getByRole('alert').filter({ hasText: 'The connection test failed' });
    await failure.waitFor();
    const text = await failure.textContent();
    assert.match(text, /SignatureDoesNotMatch/, text);
    await checkA11y(page, 's3 storage wrong secret');

    // the right secret typed: the test passes
    await page.getByLabel('Secret').fill(key.secret);
    await page.getByRole('button', { name: 'Save changes' }).click();
    await failure.waitFor({ state: 'detached', timeout: 5000 });
    await page.getByRole('button', { name: 'Test connection' }).click();
    await page.getByText('The S3 storage answered: the connection works.').waitFor();

    // another bucket, the secret left empty: the stored secret still signs (the test passes)
    await page.getByLabel('Bucket').fill('signed-two');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText('The S3 storage answered: the connection works.').waitFor({ state: 'detached', timeout: 5000 });
    assert.equal((await api.settings.getAll()).s3.bucket, 'signed-two');
    await page.getByRole('button', { name: 'Test connection' }).click();
    await page.getByText('The S3 storage answered: the connection works.').waitFor();
    assert.equal(await failure.count(), 0);

    assertNoProblems(page, [/status of 400/]);
  } finally {
    await server.stop();
    await signed.stop();
  }
});
