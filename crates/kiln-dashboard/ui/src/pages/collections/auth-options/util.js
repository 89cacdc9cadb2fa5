// Small helpers of the auth options: immutable edits by dotted path, durations in human units,
// fresh token secrets, and the fields that may serve as identities or OAuth2 mappings.
import { formatNumber } from '../../../i18n/index.js';

/** The value at `path` ('otp.emailTemplate.subject', 'oauth2.providers.0.clientId') of `obj`. */
export function getPath(obj, path) {
  let v = obj;
  for (const k of path.split('.')) {
    if (v == null) return undefined;
    v = v[k];
  }
  return v;
}

/**
 * A copy of `obj` with `path` set to `value` (only the objects along the path are copied);
 * `value === undefined` removes the key.
 */
export function setPath(obj, path, value) {
  const [k, ...rest] = path.split('.');
  const base = Array.isArray(obj) ? [...obj] : { ...(obj ?? {}) };
  if (!rest.length) {
    if (value === undefined) {
      if (Array.isArray(base)) base.splice(Number(k), 1);
      else delete base[k];
    } else base[k] = value;
    return base;
  }
  base[k] = setPath(obj?.[k] ?? (/^\d+$/.test(rest[0]) ? [] : {}), rest.join('.'), value);
  return base;
}

/** Applies several `[path, value]` edits in order. */
export function setPaths(obj, edits) {
  return edits.reduce((o, [p, v]) => setPath(o, p, v), obj);
}

/** Whether any error path starts with one of `prefixes`. */
export function hasErrors(errors, prefixes) {
  return Object.keys(errors ?? {}).some((k) => prefixes.some((p) => k === p || k.startsWith(`${p}.`)));
}

const UNITS = [
  ['day', 86400],
  ['hour', 3600],
  ['minute', 60],
  ['second', 1],
];

/** `seconds` in the locale's words, in at most two units: "5 days", "1 hour, 30 minutes". */
export function humanDuration(seconds) {
  let left = Math.max(0, Math.floor(Number(seconds) || 0));
  if (!left) return formatNumber(0, { style: 'unit', unit: 'second', unitDisplay: 'long' });
  const parts = [];
  for (const [unit, size] of UNITS) {
    if (parts.length === 2) break;
    const n = Math.floor(left / size);
    if (n > 0) {
      parts.push(formatNumber(n, { style: 'unit', unit, unitDisplay: 'long' }));
      left -= n * size;
    } else if (parts.length) break;
  }
  return parts.join(', ');
}

/** A random secret (letters and digits) of `length` characters. */
export function randomSecret(length = 50) {
  const chars = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  const bytes = crypto.getRandomValues(new Uint8Array(length));
  return Array.from(bytes, (b) => chars[b % chars.length]).join('');
}

/** The columns of a single-column UNIQUE index, from the collection's `indexes`. */
function uniqueColumns(indexes) {
  const out = new Set();
  for (const raw of indexes ?? []) {
    const m = /^\s*create\s+unique\s+index\s.*?\(([^)]*)\)/is.exec(raw);
    if (!m) continue;
    const cols = m[1].split(',').map((c) => c.trim().replace(/^[`"[]|[`"\]]$/g, '').replace(/\s+(asc|desc)$/i, '').replace(/^[`"[]|[`"\]]$/g, ''));
    if (cols.length === 1 && cols[0]) out.add(cols[0]);
  }
  return out;
}

/** The fields that can identify an account at password sign-in: text/email with a unique index. */
export function identityCandidates(draft) {
  const unique = uniqueColumns(draft.indexes);
  return (draft.fields ?? [])
    .filter((f) => (f.type === 'text' || f.type === 'email') && f.name !== 'tokenKey' && f.name !== 'id' && unique.has(f.name))
    .map((f) => f.name);
}

/** The fields an OAuth2 value may be copied into: `kind` 'text' (id, name, username) or 'avatar'. */
export function mappableFields(draft, kind) {
  const types = kind === 'avatar' ? ['file', 'url', 'text'] : ['text', 'email', 'url', 'editor'];
  return (draft.fields ?? [])
    .filter((f) => types.includes(f.type) && !['id', 'tokenKey', 'password', 'email'].includes(f.name))
    .map((f) => f.name);
}
