// The collection editor's draft: a deep copy of a collection whose fields carry a local key (for
// stable rendering and for matching the API's `fields.N.*` errors after removals) and a removal
// mark (a removed field can be restored until the collection is saved).

let seq = 0;
const nextKey = () => `f${++seq}`;

/** The field types, in the order the "New field" menu offers them. */
export const FIELD_TYPES = ['text', 'editor', 'number', 'bool', 'email', 'url', 'date', 'autodate', 'select', 'file', 'relation', 'json', 'geoPoint', 'password'];

/** The icon of a field type (from the shared icon set). */
export const TYPE_ICONS = {
  text: 'edit',
  editor: 'code',
  number: 'columns',
  bool: 'check',
  email: 'user',
  url: 'link',
  date: 'logs',
  autodate: 'refresh',
  select: 'menu',
  file: 'file',
  relation: 'link',
  json: 'code',
  geoPoint: 'globe',
  password: 'lock',
};

/** The options of a new field of each type (PocketBase 0.40's defaults). */
const DEFAULTS = {
  text: { min: 0, max: 0, pattern: '', autogeneratePattern: '', primaryKey: false },
  editor: { maxSize: 0, convertURLs: false },
  number: { min: null, max: null, onlyInt: false },
  bool: {},
  email: { exceptDomains: [], onlyDomains: [] },
  url: { exceptDomains: [], onlyDomains: [] },
  date: { min: '', max: '' },
  autodate: { onCreate: true, onUpdate: false },
  select: { values: [], maxSelect: 1 },
  file: { maxSelect: 1, maxSize: 0, mimeTypes: [], thumbs: [], protected: false },
  relation: { collectionId: '', cascadeDelete: false, minSelect: 0, maxSelect: 1 },
  json: { maxSize: 0 },
  geoPoint: {},
  password: { min: 0, max: 0, cost: 0, pattern: '' },
};

export const clone = (v) => (v === undefined ? v : JSON.parse(JSON.stringify(v)));

/** A name not yet used by `fields` (`base`, `base2`, …). */
export function uniqueName(fields, base) {
  const used = new Set(fields.map((f) => f.name.toLowerCase()));
  if (!used.has(base.toLowerCase())) return base;
  for (let i = 2; ; i++) if (!used.has(`${base}${i}`.toLowerCase())) return `${base}${i}`;
}

/** A new field of `type`, named uniquely among `fields`. */
export function newField(type, fields) {
  const f = { id: '', name: uniqueName(fields, type === 'geoPoint' ? 'location' : 'field'), type, system: false, hidden: false, presentable: false, ...clone(DEFAULTS[type] ?? {}) };
  if (type !== 'autodate') {
    f.required = false;
    f.help = '';
  }
  return withKey(f, true);
}

function withKey(f, isNew = false) {
  return { ...f, _key: nextKey(), ...(isNew ? { _new: true } : {}) };
}

/** A draft from a saved collection (or a scaffold). */
export function draftFrom(collection) {
  const d = clone(collection);
  d.fields = (d.fields ?? []).map((f) => withKey(f));
  d.indexes = d.indexes ?? [];
  return d;
}

/** A new collection's draft of `type` from the API's scaffolds (base ones get created/updated). */
export function newDraft(scaffolds, type = 'base', keep) {
  const d = draftFrom(scaffolds?.[type] ?? { name: '', type, fields: [], indexes: [] });
  if (type !== 'view') {
    // the fields the user had already added to a draft of another type stay
    const extra = (keep?.fields ?? []).filter((f) => !f.system && !d.fields.some((s) => s.name === f.name));
    if (keep) d.fields.push(...extra);
    else {
      d.fields.push({ ...newField('autodate', d.fields), name: 'created', onCreate: true, onUpdate: false });
      d.fields.push({ ...newField('autodate', d.fields), name: 'updated', onCreate: true, onUpdate: true });
    }
  }
  if (keep) {
    d.name = keep.name;
    for (const r of ['listRule', 'viewRule', 'createRule', 'updateRule', 'deleteRule']) d[r] = keep[r] ?? d[r];
    if (type === 'view') d.viewQuery = keep.viewQuery ?? '';
  }
  d.indexes = d.indexes.map((i) => renameTable(i, d.name));
  return d;
}

/** A new draft copying a saved collection (name + "_copy", no ids, index names made unique). */
export function copyDraft(collection, all = []) {
  const d = draftFrom(collection);
  d.id = '';
  d.system = false;
  d.created = '';
  d.updated = '';
  let name = `${collection.name}_copy`;
  for (let i = 2; all.some((c) => c.name === name); i++) name = `${collection.name}_copy${i}`;
  d.name = name;
  d.fields = d.fields.map((f) => ({ ...f, id: '', _new: true }));
  const suffix = Math.random().toString(36).slice(2, 6);
  d.indexes = d.indexes.map((sql) => {
    const p = parseIndex(sql);
    if (!p) return sql;
    return buildIndex({ ...p, name: `${p.name}_${suffix}`, table: name });
  });
  if (d.oauth2) d.oauth2 = { ...d.oauth2, providers: [] };
  return d;
}

/**
 * What is sent to the API, and `keys`: the local key of the field at each position of
 * `payload.fields` (to put the API's `fields.N.*` errors next to the right field).
 */
export function toPayload(draft) {
  const p = clone(draft);
  const keys = [];
  p.fields = (p.fields ?? [])
    .filter((f) => !f._deleted)
    .map((f) => {
      keys.push(f._key);
      return Object.fromEntries(Object.entries(f).filter(([k]) => !k.startsWith('_')));
    });
  p.indexes = (p.indexes ?? []).map((i) => renameTable(i, p.name));
  if (p.type === 'view') {
    delete p.fields;
    delete p.indexes;
  }
  delete p.created;
  delete p.updated;
  return { payload: p, keys };
}

/** Whether two drafts would save the same collection. */
export function sameDraft(a, b) {
  return JSON.stringify(toPayload(a).payload) === JSON.stringify(toPayload(b).payload);
}

/**
 * Splits the API's flat errors into `{ fields: { [key]: { sub: message } }, rest }`: the field
 * errors by field (the sub path after `fields.N.`, '' for the field itself), the rest as they are.
 */
export function splitErrors(errs, keys) {
  const fields = {};
  const rest = {};
  for (const [path, msg] of Object.entries(errs)) {
    const m = path.match(/^fields\.(\d+)(?:\.(.*))?$/);
    const key = m && keys[Number(m[1])];
    if (key) (fields[key] ??= {})[m[2] ?? ''] = msg;
    else rest[path] = msg;
  }
  return { fields, rest };
}

// ---- indexes -------------------------------------------------------------------------------

const ident = String.raw`(?:\x60([^\x60]*)\x60|"([^"]*)"|\[([^\]]*)\]|'([^']*)'|([\w]+))`;
const INDEX_RE = new RegExp(
  String.raw`^\s*CREATE\s+(UNIQUE\s+)?INDEX\s+(IF\s+NOT\s+EXISTS\s+)?(?:${ident}\s*\.\s*)?${ident}\s+ON\s+${ident}?\s*\(([\s\S]*)\)\s*(?:WHERE\s+([\s\S]*?))?\s*;?\s*$`,
  'i',
);
const pick = (m, from) => m.slice(from, from + 5).find((v) => v !== undefined) ?? '';

/** Splits `a, b COLLATE nocase DESC, (lower(c))` at the top-level commas. */
function splitColumns(s) {
  const out = [];
  let depth = 0;
  let cur = '';
  let quote = '';
  for (const ch of s) {
    if (quote) {
      cur += ch;
      if (ch === quote) quote = '';
      continue;
    }
    if (ch === '`' || ch === '"' || ch === "'") quote = ch;
    else if (ch === '(') depth++;
    else if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}

/**
 * `CREATE [UNIQUE] INDEX name ON table (cols) [WHERE …]` as `{ unique, name, table, columns:
 * [{ name, rest }], where }`, or null when the text is not of that form.
 */
export function parseIndex(sql) {
  const m = String(sql ?? '').match(INDEX_RE);
  if (!m) return null;
  const columns = splitColumns(m[18]).map((c) => {
    const cm = c.match(/^(?:`([^`]+)`|"([^"]+)"|\[([^\]]+)\]|([\w]+))(?:\s+(.*))?$/s);
    return cm ? { name: cm[1] ?? cm[2] ?? cm[3] ?? cm[4], rest: (cm[5] ?? '').trim() } : { name: c, rest: '', raw: true };
  });
  return { unique: !!m[1], name: pick(m, 8), table: pick(m, 13), columns, where: (m[19] ?? '').trim() };
}

/** The SQL of a parsed index. */
export function buildIndex({ unique, name, table, columns, where }) {
  const cols = columns.map((c) => (c.raw ? c.name : `\`${c.name}\`${c.rest ? ` ${c.rest}` : ''}`)).join(', ');
  return `CREATE ${unique ? 'UNIQUE ' : ''}INDEX \`${name}\` ON \`${table}\` (${cols})${where ? ` WHERE ${where}` : ''}`;
}

/** The index with the table renamed (unchanged if it cannot be parsed). */
export function renameTable(sql, table) {
  const p = parseIndex(sql);
  if (!p || p.table === table) return sql;
  return buildIndex({ ...p, table });
}

/** The index with column `from` renamed `to` (unchanged if it does not use it). */
export function renameColumn(sql, from, to) {
  const p = parseIndex(sql);
  if (!p || !p.columns.some((c) => !c.raw && c.name.toLowerCase() === from.toLowerCase())) return sql;
  return buildIndex({ ...p, columns: p.columns.map((c) => (!c.raw && c.name.toLowerCase() === from.toLowerCase() ? { ...c, name: to } : c)) });
}

/** A fresh index name for `table`. */
export function indexName(table) {
  return `idx_${(table || 'table').replace(/\W/g, '_')}_${Math.random().toString(36).slice(2, 8)}`;
}
