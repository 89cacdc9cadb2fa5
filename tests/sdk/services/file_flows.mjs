// The file-field flows shared by files.test.mjs (local storage) and s3.test.mjs (S3 storage):
// a list of [name, async fn] run in order against the server `env()` describes.
import assert from 'node:assert/strict';
import { ClientResponseError } from 'pocketbase';
import { pngSize, solidPng } from './png.mjs';

const NAME = /^[a-z0-9_]+_[a-z0-9]{10}(\.[A-Za-z0-9]+)?$/;

async function status(fn) {
  try {
    await fn();
    return 200;
  } catch (e) {
    assert.ok(e instanceof ClientResponseError, String(e?.stack ?? e));
    return e.status;
  }
}

export function fileFlows(env) {
  const state = {};
  const get = (url, headers = {}) => fetch(url, { headers });
  return [
    ['files: a collection with file fields (thumbs, protected, types, sizes)', async () => {
      const { superuser } = env();
      const su = await superuser();
      await su.collections.create({
        name: 'docs',
        type: 'base',
        listRule: '',
        viewRule: '@request.auth.id != ""',
        createRule: '',
        updateRule: '',
        deleteRule: '',
        fields: [
          { name: 'title', type: 'text' },
          { name: 'cover', type: 'file', maxSelect: 1, maxSize: 1024 * 1024, mimeTypes: ['image/png', 'image/jpeg'], thumbs: ['50x50', '0x40', '40x20f'] },
          { name: 'attachments', type: 'file', maxSelect: 5, maxSize: 2 * 1024 * 1024 },
          { name: 'secret', type: 'file', maxSelect: 1, maxSize: 1024 * 1024, protected: true },
        ],
      });
      const users = await su.collection('users').create({ email: 'filer@example.com', password: 'Secret-pass-123', passwordConfirm: 'Secret-pass-123' });
      state.user = users;
    }],

    ['files: upload with the SDK (FormData), stored names, download with getURL', async () => {
      const { client } = env();
      const pb = client();
      state.png = solidPng(120, 60);
      const rec = await pb.collection('docs').create({
        title: 'with files',
        cover: new File([state.png], 'Red Square.PNG', { type: 'image/png' }),
        attachments: [new File(['hello a'], 'a.txt', { type: 'text/plain' }), new File(['hello b'], 'b.txt')],
        secret: new File(['top secret'], 'secret.txt'),
      });
      assert.match(rec.cover, NAME);
      assert.match(rec.cover, /^red_square_[a-z0-9]{10}\.PNG$/); // PocketBase keeps the extension as given
      assert.equal(rec.attachments.length, 2);
      assert.match(rec.attachments[0], /^a[a-z0-9]{10}_[a-z0-9]{10}\.txt$/); // PocketBase pads names under 3 characters
      assert.match(rec.secret, /^secret_[a-z0-9]{10}\.txt$/);
      state.rec = rec;

      const res = await get(pb.files.getURL(rec, rec.cover));
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'image/png');
      assert.match(res.headers.get('content-disposition'), /^inline; filename="red_square_/);
      assert.equal(res.headers.get('accept-ranges'), 'bytes');
      assert.match(res.headers.get('content-security-policy'), /sandbox/);
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), state.png);

      const txt = await get(pb.files.getURL(rec, rec.attachments[0]));
      assert.equal(txt.status, 200);
      assert.match(txt.headers.get('content-type'), /^text\/plain/);
      assert.match(txt.headers.get('content-disposition'), /^attachment;/);
      assert.equal(await txt.text(), 'hello a');

      const dl = await get(pb.files.getURL(rec, rec.cover, { download: true }));
      assert.match(dl.headers.get('content-disposition'), /^attachment;/);
    }],

    ['files: thumbnails (100x100 always, the field\'s thumbs, others serve the original)', async () => {
      const { client } = env();
      const pb = client();
      const rec = state.rec;
      for (const [thumb, size] of [['100x100', { width: 100, height: 100 }], ['50x50', { width: 50, height: 50 }], ['0x40', { width: 80, height: 40 }], ['40x20f', { width: 40, height: 20 }]]) {
        const res = await get(pb.files.getURL(rec, rec.cover, { thumb }));
        assert.equal(res.status, 200, thumb);
        assert.equal(res.headers.get('content-type'), 'image/png', thumb);
        assert.deepEqual(pngSize(Buffer.from(await res.arrayBuffer())), size, thumb);
      }
      const other = await get(pb.files.getURL(rec, rec.cover, { thumb: '20x20' }));
      assert.deepEqual(pngSize(Buffer.from(await other.arrayBuffer())), { width: 120, height: 60 }, 'not a listed thumb: the original');
      const again = await get(pb.files.getURL(rec, rec.cover, { thumb: '50x50' }));
      assert.deepEqual(pngSize(Buffer.from(await again.arrayBuffer())), { width: 50, height: 50 }, 'kept and served again');
    }],

    ['files: protected files need a file token and the viewRule', async () => {
      const { client } = env();
      const guest = client();
      const rec = state.rec;
      assert.equal((await get(guest.files.getURL(rec, rec.secret))).status, 404);
      await assert.rejects(() => guest.files.getToken(), (e) => e.status === 401);
      const pb = client();
      await pb.collection('users').authWithPassword('filer@example.com', 'Secret-pass-123');
      const token = await pb.files.getToken();
      const res = await get(pb.files.getURL(rec, rec.secret, { token }));
      assert.equal(res.status, 200);
      assert.equal(await res.text(), 'top secret');
      assert.equal((await get(pb.files.getURL(rec, rec.secret, { token: token + 'x' }))).status, 404, 'a forged token');
    }],

    ['files: byte ranges', async () => {
      const { client } = env();
      const rec = state.rec;
      const url = client().files.getURL(rec, rec.attachments[1]);
      const part = await get(url, { Range: 'bytes=0-4' });
      assert.equal(part.status, 206);
      assert.equal(await part.text(), 'hello');
      assert.match(part.headers.get('content-range'), /^bytes 0-4\/7$/);
      const tail = await get(url, { Range: 'bytes=-1' });
      assert.equal(await tail.text(), 'b');
      assert.equal((await get(url, { Range: 'bytes=100-' })).status, 416);
    }],

    ['files: f+, +f and f- modifiers; replaced and removed files are gone', async () => {
      const { client } = env();
      const pb = client();
      const rec = state.rec;
      const oldCover = client().files.getURL(rec, rec.cover);
      const removed = client().files.getURL(rec, rec.attachments[0]);
      let up = await pb.collection('docs').update(rec.id, { 'attachments+': new File(['c'], 'c.txt') });
      assert.equal(up.attachments.length, 3);
      assert.match(up.attachments[2], /^c[a-z0-9]{10}_/);
      up = await pb.collection('docs').update(rec.id, { '+attachments': new File(['z'], 'z.txt') });
      assert.match(up.attachments[0], /^z[a-z0-9]{10}_/);
      up = await pb.collection('docs').update(rec.id, { 'attachments-': [rec.attachments[0]] });
      assert.equal(up.attachments.length, 3);
      assert.ok(!up.attachments.includes(rec.attachments[0]));
      assert.equal((await get(removed)).status, 404);
      up = await pb.collection('docs').update(rec.id, { cover: new File([solidPng(10, 10)], 'blue.png') });
      assert.match(up.cover, /^blue_/);
      assert.equal((await get(oldCover)).status, 404, 'the replaced cover is gone');
      state.rec = up;
    }],

    ['files: content types are sniffed, sizes and counts enforced, nothing stored on failure', async () => {
      const { client, superuser } = env();
      const pb = client();
      const html = new File(['<html><script>alert(1)</script></html>'], 'evil.png', { type: 'image/png' });
      let err = await status(() => pb.collection('docs').create({ title: 'spoof', cover: html }));
      assert.equal(err, 400, 'HTML named .png is not an image');
      err = await status(() => pb.collection('docs').create({ title: 'big', cover: new File([Buffer.concat([solidPng(2, 2), Buffer.alloc(1024 * 1024 + 10)])], 'big.png') }));
      assert.equal(err, 400, 'over maxSize');
      const six = Array.from({ length: 6 }, (_, i) => new File([`f${i}`], `f${i}.txt`));
      err = await status(() => pb.collection('docs').create({ title: 'many', attachments: six }));
      assert.equal(err, 400, 'over maxSelect');
      const su = await superuser();
      assert.equal((await su.collection('docs').getList(1, 1, { filter: 'title = "spoof" || title = "big" || title = "many"' })).totalItems, 0);
    }],

    ['files: SVG with a script is never rendered inline from the API', async () => {
      const { client } = env();
      const pb = client();
      const svg = '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>';
      const rec = await pb.collection('docs').create({ title: 'svg', attachments: [new File([svg], 'pic.svg', { type: 'image/svg+xml' })] });
      const res = await get(pb.files.getURL(rec, rec.attachments[0]));
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-disposition'), /^attachment;/);
      assert.match(res.headers.get('content-security-policy'), /sandbox/);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    }],

    ['files: deleting the record removes its files', async () => {
      const { client } = env();
      const pb = client();
      const rec = state.rec;
      const urls = [pb.files.getURL(rec, rec.cover), pb.files.getURL(rec, rec.cover, { thumb: '50x50' }), pb.files.getURL(rec, rec.attachments[0])];
      for (const u of urls) assert.equal((await get(u)).status, 200);
      await pb.collection('docs').delete(rec.id);
      for (const u of urls) assert.equal((await get(u)).status, 404);
    }],
  ];
}
