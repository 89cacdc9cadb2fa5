// The message catalogs (crates/kiln-dashboard/ui/src/i18n): every language has every key of
// English with the same {placeholders}, every key the code asks for by name exists, and no
// message is left untranslated by accident (a German text equal to the English one must be a
// name, a code or a placeholder).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from './harness.mjs';

const SRC = join(REPO, 'crates/kiln-dashboard/ui/src');
const en = (await import(join(SRC, 'i18n/en/index.js'))).default;
const de = (await import(join(SRC, 'i18n/de/index.js'))).default;
const vars = (s) => [...String(s).matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

function sources(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return name === 'i18n' ? [] : sources(p);
    return /\.(jsx?|mjs)$/.test(name) ? [p] : [];
  });
}

test('German has every English key, with the same placeholders', () => {
  const missing = Object.keys(en).filter((k) => !(k in de));
  const extra = Object.keys(de).filter((k) => !(k in en));
  assert.deepEqual(missing, [], 'keys missing from de');
  assert.deepEqual(extra, [], 'keys only in de');
  const differ = Object.keys(en).filter((k) => vars(en[k]).join() !== vars(de[k]).join());
  assert.deepEqual(differ.map((k) => `${k}: ${en[k]} | ${de[k]}`), []);
});

test('every key the code names exists', () => {
  const unknown = [];
  for (const file of sources(SRC)) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/\bt\(\s*'([a-zA-Z0-9_.-]+)'/g)) {
      const key = m[1];
      // plural messages are `key.one` / `key.other`
      if (!(key in en) && !(`${key}.other` in en)) unknown.push(`${file.slice(SRC.length + 1)}: ${key}`);
    }
  }
  assert.deepEqual(unknown, []);
});

test('German messages are translated', () => {
  // the same text in both is fine for names, codes, units and placeholders only
  const same = Object.keys(en).filter((k) => {
    const e = String(en[k]).trim();
    if (e !== String(de[k]).trim()) return false;
    const words = e.replace(/\{\w+\}/g, '').replace(/[`'"].*?[`'"]/g, '').match(/[A-Za-zÄÖÜäöüß]{4,}/g) ?? [];
    return words.length >= 2;
  });
  assert.ok(same.length <= Object.keys(en).length * 0.03, `untranslated German messages:\n${same.map((k) => `${k}: ${en[k]}`).join('\n')}`);
});
