// Helpers of the records area: which fields show where, the search filter, dates in PocketBase's
// form, presentable values of related records.
import { pb } from '../../api.js';
import { findCollection } from '../../store/collections.js';

/** Fields never shown or edited as such (the auth token key). */
const SKIP = new Set(['tokenKey']);

/** The fields of `collection` the table can show as columns. */
export function columnFields(collection) {
  return (collection.fields ?? []).filter((f) => !SKIP.has(f.name) && f.type !== 'password');
}

/** The fields the editor shows (auth system fields are handled apart). */
export function editorFields(collection) {
  const auth = collection.type === 'auth';
  return (collection.fields ?? []).filter((f) => {
    if (f.name === 'id' || SKIP.has(f.name) || f.type === 'password') return false;
    if (auth && (f.name === 'email' || f.name === 'emailVisibility' || f.name === 'verified')) return false;
    return true;
  });
}

const TEXTUAL = new Set(['text', 'email', 'url', 'editor']);

/**
 * The filter for what the user typed: a filter expression as it is, plain words as a search over
 * the text fields (`id ~ 'w' || title ~ 'w'`), as PocketBase's dashboard does.
 */
export function normalizeSearch(term, collection) {
  term = (term || '').trim();
  if (!term) return '';
  if (['=', '~', '>', '<'].some((op) => term.includes(op))) return term;
  const fields = ['id', ...(collection.fields ?? []).filter((f) => TEXTUAL.has(f.type) && f.name !== 'id').map((f) => f.name)];
  const plain = Number.isNaN(Number(term)) && term !== 'true' && term !== 'false' ? term.replace(/^["'`]|["'`]$/g, '') : term;
  return fields.map((f) => pb.filter(`${f} ~ {:q}`, { q: plain })).join(' || ');
}

/** The first-level relation fields (their names, for `expand`). */
export function relationFields(collection) {
  return (collection.fields ?? []).filter((f) => f.type === 'relation');
}

export function expandFor(collection) {
  return relationFields(collection)
    .map((f) => f.name)
    .join(',');
}

/** The fields of a collection that present a record (its presentable ones, or a sensible pick). */
export function presentableFields(collection) {
  if (!collection) return ['id'];
  const p = (collection.fields ?? []).filter((f) => f.presentable && !f.hidden).map((f) => f.name);
  if (p.length) return p;
  for (const name of ['title', 'name', 'email', 'username', 'label', 'slug']) {
    if ((collection.fields ?? []).some((f) => f.name === name)) return [name];
  }
  const text = (collection.fields ?? []).find((f) => f.type === 'text' && f.name !== 'id' && !f.hidden);
  return text ? [text.name] : ['id'];
}

/** A short text for a related record. */
export function presentRecord(record, collection) {
  if (!record) return '';
  const parts = presentableFields(collection ?? findCollection(record.collectionId))
    .map((n) => record[n])
    .filter((v) => v !== undefined && v !== null && v !== '' && !(Array.isArray(v) && !v.length))
    .map((v) => (Array.isArray(v) ? v.join(', ') : typeof v === 'object' ? JSON.stringify(v) : String(v)));
  return parts.length ? parts.join(' · ') : record.id;
}

/** `2024-05-01 10:00:00.123Z` → `2024-05-01T10:00:00` (a datetime-local value, in UTC). */
export function toLocalInput(value) {
  if (!value) return '';
  const d = new Date(String(value).replace(' ', 'T'));
  if (Number.isNaN(d.getTime())) return '';
  return d.toISOString().slice(0, 19);
}

/** A datetime-local value (read as UTC) → `2024-05-01 10:00:00.000Z`. */
export function fromLocalInput(value) {
  if (!value) return '';
  const full = value.length === 16 ? `${value}:00` : value;
  const d = new Date(`${full}Z`);
  if (Number.isNaN(d.getTime())) return '';
  return d.toISOString().replace('T', ' ');
}

/** The names of the columns in a unique index of `collection` (left out when duplicating). */
export function uniqueColumns(collection) {
  const out = new Set();
  for (const idx of collection.indexes ?? []) {
    if (!/create\s+unique\s+index/i.test(idx)) continue;
    const m = idx.match(/\(([^)]*)\)\s*(where|$)/i) ?? idx.match(/\(([^)]*)\)/);
    if (!m) continue;
    for (const part of m[1].split(',')) {
      const col = part.trim().split(/\s+/)[0].replace(/[`"'[\]]/g, '');
      if (col) out.add(col);
    }
  }
  if (collection.type === 'auth') out.add('email');
  return out;
}

/** Whether a file name looks like an image the server can thumb. */
export function isImage(name) {
  return /\.(png|jpe?g|gif|webp|svg|bmp|avif)$/i.test(String(name));
}

/** A list value (`values` of a relation, select or file) as an array. */
export function asList(v) {
  if (Array.isArray(v)) return v;
  if (v === undefined || v === null || v === '') return [];
  return [v];
}

/** Whether a field holds several values. */
export function isMulti(field) {
  return (field.maxSelect ?? 1) > 1;
}

/** Whether the collection has protected file fields (their files need a file token). */
export function needsFileToken(collection) {
  return (collection.fields ?? []).some((f) => f.type === 'file' && f.protected);
}

/** Strips HTML to text (for the table's preview of an editor field). */
export function stripHtml(html) {
  const doc = new DOMParser().parseFromString(String(html ?? ''), 'text/html');
  return (doc.body.textContent ?? '').replace(/\s+/g, ' ').trim();
}

/** `text` cut to `n` characters. */
export function truncate(text, n = 80) {
  const s = String(text ?? '');
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}

/** Single-quotes a string for a POSIX shell. */
export function shellQuote(s) {
  return `'${String(s).replace(/'/g, `'\\''`)}'`;
}

/** The default order of a collection's records (newest first when it has a `created` date). */
export function defaultSort(collection) {
  return (collection.fields ?? []).some((f) => f.name === 'created') ? '-created' : '';
}
