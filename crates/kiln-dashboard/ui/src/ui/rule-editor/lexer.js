// PocketBase's filter language (the grammar of github.com/ganigeorgiev/fexpr, as PocketBase and
// Kiln read it): a tokenizer for the highlighting, a small parser for the syntax hints, and the
// completion of the word at the caret. Pure functions without DOM or JSX, so that
// tests/dashboard/rule-lexer.test.mjs can import them in node.

/** The date macros (`@now`, …). */
export const MACROS = [
  '@now', '@second', '@minute', '@hour', '@weekday', '@day', '@month', '@year',
  '@yesterday', '@tomorrow', '@todayStart', '@todayEnd', '@monthStart', '@monthEnd', '@yearStart', '@yearEnd',
];

/** Every modifier after `:`. */
export const MODIFIERS = ['isset', 'changed', 'length', 'each', 'lower'];

/** The functions, with their argument lists (for the completion's detail). */
export const FUNCTIONS = { geoDistance: 'lonA, latA, lonB, latB', strftime: 'format, time, …modifiers' };

const SIGNS = new Set(['=', '!=', '>', '>=', '<', '<=', '~', '!~']);
for (const s of [...SIGNS]) SIGNS.add(`?${s}`);
const KEYWORDS = new Set(['true', 'false', 'null']);

const isLetter = (c) => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
const isDigit = (c) => c >= '0' && c <= '9';
const isIdentStart = (c) => isLetter(c) || c === '_' || c === '@' || c === '#';
/** A character of an identifier (a field path with its modifiers). */
export const isIdentChar = (c) => isIdentStart(c) || isDigit(c) || c === '.' || c === ':';
const isSignChar = (c) => c === '=' || c === '!' || c === '>' || c === '<' || c === '~' || c === '?';
const isSpace = (c) => c === ' ' || c === '\t' || c === '\n' || c === '\r';

/** The kind of an identifier: macro, request, collection, keyword or field. */
function identKind(text) {
  if (KEYWORDS.has(text)) return 'keyword';
  if (text.startsWith('@request')) return 'request';
  if (text.startsWith('@collection')) return 'collection';
  if (text.startsWith('@')) return MACROS.includes(text) ? 'macro' : 'unknown';
  return 'field';
}

/**
 * The tokens of `src`, covering it completely: `{ type, text, start, end }` with type one of
 * ws, comment, string, number, keyword, macro, request, collection, field, modifier, func, sign,
 * join, paren, comma, bad. An unterminated string has `open: true`; a bad sign or join `bad: true`.
 */
export function tokenize(src) {
  const out = [];
  let i = 0;
  const push = (type, start, end, extra) => out.push({ type, text: src.slice(start, end), start, end, ...extra });
  while (i < src.length) {
    const c = src[i];
    const start = i;
    if (isSpace(c)) {
      while (i < src.length && isSpace(src[i])) i++;
      push('ws', start, i);
    } else if (c === '/' && src[i + 1] === '/') {
      while (i < src.length && src[i] !== '\n') i++;
      push('comment', start, i);
    } else if (c === '"' || c === "'") {
      i++;
      let closed = false;
      while (i < src.length) {
        if (src[i] === '\\') {
          i += 2;
          continue;
        }
        if (src[i++] === c) {
          closed = true;
          break;
        }
      }
      i = Math.min(i, src.length);
      push('string', start, i, closed ? undefined : { open: true });
    } else if (isDigit(c) || (c === '-' && isDigit(src[i + 1] ?? ''))) {
      i++;
      while (i < src.length && (isDigit(src[i]) || src[i] === '.')) i++;
      push('number', start, i, /^-?\d+(\.\d+)?$/.test(src.slice(start, i)) ? undefined : { bad: true });
    } else if (isIdentStart(c)) {
      while (i < src.length && isIdentChar(src[i])) i++;
      const text = src.slice(start, i);
      let j = i;
      while (j < src.length && isSpace(src[j])) j++;
      if (src[j] === '(' && !text.startsWith('@') && !text.includes('.')) {
        push('func', start, i);
        continue;
      }
      // `path:modifier`: the known modifiers get their own colour
      const m = /^(.*?)((?::(?:isset|changed|length|each|lower))+)$/.exec(text);
      const path = m && m[1] ? m[1] : text;
      const kind = identKind(path);
      push(kind, start, start + path.length);
      if (m && m[1]) push('modifier', start + path.length, i);
    } else if (isSignChar(c)) {
      while (i < src.length && isSignChar(src[i])) i++;
      push('sign', start, i, SIGNS.has(src.slice(start, i)) ? undefined : { bad: true });
    } else if (c === '&' || c === '|') {
      while (i < src.length && (src[i] === '&' || src[i] === '|')) i++;
      const t = src.slice(start, i);
      push('join', start, i, t === '&&' || t === '||' ? undefined : { bad: true });
    } else if (c === '(' || c === ')') {
      i++;
      push('paren', start, i);
    } else if (c === ',') {
      i++;
      push('comma', start, i);
    } else {
      i++;
      push('bad', start, i);
    }
  }
  return out;
}

/** Whether `src` reads as a filter expression rather than as plain search text. */
export function looksLikeFilter(src) {
  return tokenize(src).some((t) => t.type === 'sign' || t.type === 'join' || t.type === 'request' || t.type === 'collection');
}

/**
 * Whether `src` uses what only an API rule knows (the request body, the method, `:isset`,
 * `:changed`): such a rule cannot be tried as a list filter.
 */
export function usesRuleOnly(src) {
  return tokenize(src).some(
    (t) =>
      (t.type === 'request' && /^@request\.(body|method)\b/.test(t.text)) ||
      (t.type === 'modifier' && /:(isset|changed)\b/.test(t.text)),
  );
}

/** The identifiers' first path segments that name the collection's own fields. */
export function topLevelFields(src) {
  const names = new Set();
  for (const t of tokenize(src)) if (t.type === 'field') names.add(t.text.split(/[.:]/)[0]);
  return [...names];
}

/**
 * The first syntax problem of `src`, or null: `{ code, start, end, vars }`. Codes: unclosedString,
 * unclosedParen, extraParen, missingOperand, missingOperator, badOperator, badNumber,
 * unexpected, unknownField (`fields`, when given, are the known top-level names),
 * unknownMacro, emptyGroup.
 */
export function checkSyntax(src, { fields } = {}) {
  const all = tokenize(src);
  const toks = all.filter((t) => t.type !== 'ws' && t.type !== 'comment');
  const known = fields ? new Set(fields) : null;
  let p = 0;
  const err = (code, tok, vars = {}) => {
    const at = tok ?? { start: src.length, end: src.length };
    const e = new Error(code);
    e.problem = { code, start: at.start, end: at.end, vars };
    return e;
  };
  // lexical problems first
  for (const t of toks) {
    if (t.type === 'string' && t.open) return err('unclosedString', t).problem;
    if (t.type === 'bad') return err('unexpected', t, { text: t.text }).problem;
    if ((t.type === 'sign' || t.type === 'join') && t.bad) return err('badOperator', t, { text: t.text }).problem;
    if (t.type === 'number' && t.bad) return err('badNumber', t, { text: t.text }).problem;
    if (t.type === 'unknown') return err('unknownMacro', t, { text: t.text }).problem;
  }
  const peek = () => toks[p];
  const isOperand = (t) => t && ['string', 'number', 'keyword', 'macro', 'request', 'collection', 'field', 'func'].includes(t.type);
  function operand() {
    const t = toks[p];
    if (!isOperand(t)) throw err('missingOperand', t ?? toks[p - 1] ?? null, { text: toks[p - 1]?.text ?? '' });
    p++;
    if (t.type === 'field' && known && known.size) {
      const first = t.text.split(/[.:]/)[0];
      if (!known.has(first) && !first.includes('_via_')) throw err('unknownField', t, { name: first });
    }
    if (toks[p]?.type === 'modifier') p++;
    if (t.type === 'func') {
      const open = toks[p++]; // '(' (the tokenizer saw it)
      if (toks[p]?.type === 'paren' && toks[p].text === ')') {
        p++;
        return;
      }
      for (;;) {
        operand();
        const n = toks[p];
        if (n?.type === 'comma') {
          p++;
          continue;
        }
        if (n?.type === 'paren' && n.text === ')') {
          p++;
          return;
        }
        throw err(n ? 'unexpected' : 'unclosedParen', n ?? open, { text: n?.text ?? '' });
      }
    }
  }
  function term() {
    const t = peek();
    if (t?.type === 'paren' && t.text === '(') {
      p++;
      if (peek()?.type === 'paren' && peek().text === ')') throw err('emptyGroup', t);
      expr();
      const c = peek();
      if (!(c?.type === 'paren' && c.text === ')')) {
        if (!c) throw err('unclosedParen', t);
        throw err('missingOperator', c, { text: c.text });
      }
      p++;
      return;
    }
    if (t?.type === 'paren' && t.text === ')') throw err('extraParen', t);
    if (t?.type === 'sign' || t?.type === 'join') throw err('missingOperand', t, { text: t.text });
    operand();
    const s = peek();
    if (s?.type !== 'sign') throw err('missingOperator', s ?? toks[p - 1], { text: s?.text ?? '' });
    p++;
    operand();
  }
  function expr() {
    term();
    while (peek()?.type === 'join') {
      p++;
      if (!peek()) throw err('missingOperand', toks[p - 1], { text: toks[p - 1].text });
      term();
    }
  }
  try {
    if (!toks.length) return null;
    expr();
    const rest = peek();
    if (rest) {
      if (rest.type === 'paren' && rest.text === ')') throw err('extraParen', rest);
      throw err('missingOperator', rest, { text: rest.text });
    }
    return null;
  } catch (e) {
    if (e.problem) return e.problem;
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------
// Completion

/**
 * The word at `caret` that completion replaces: `{ start, end, word }` (`word` is the part before
 * the caret), or null inside a string or a comment.
 */
export function wordAt(src, caret) {
  for (const t of tokenize(src)) {
    if ((t.type === 'string' || t.type === 'comment') && caret > t.start && (caret < t.end || (t.type === 'comment' || t.open) && caret === t.end)) return null;
  }
  let start = caret;
  while (start > 0 && isIdentChar(src[start - 1])) start--;
  let end = caret;
  while (end < src.length && isIdentChar(src[end])) end++;
  return { start, end, word: src.slice(start, caret) };
}

const MULTI = new Set(['relation', 'select', 'file']);
const TEXTUAL = new Set(['text', 'email', 'url', 'editor']);

/** The modifiers that suit `field` (`body`: under `@request.body.`). */
function modifiersFor(field, { body }) {
  const out = body ? ['isset', 'changed'] : [];
  if (!field) return [...out, 'length', 'each', 'lower'];
  if (MULTI.has(field.type) && field.maxSelect > 1) out.push('each', 'length');
  if (TEXTUAL.has(field.type)) out.push('lower');
  return out;
}

/** The fields of a collection usable in a rule (no password, no tokenKey). */
function usableFields(col) {
  return (col?.fields ?? []).filter((f) => f && f.name && f.type !== 'password' && f.name !== 'tokenKey');
}

function findCol(collections, nameOrId) {
  return collections.find((c) => c.id === nameOrId || c.name === nameOrId) ?? null;
}

/**
 * Resolves a dotted path of relations from `col`: the collection reached (or null), given the
 * segments before the last one. Back-relations (`posts_via_author`) are followed too.
 */
function walk(col, segments, collections) {
  let cur = col;
  for (const seg of segments) {
    if (!cur) return null;
    const name = seg.split(':')[0];
    const f = usableFields(cur).find((x) => x.name === name);
    if (f) {
      if (f.type !== 'relation') return null;
      cur = findCol(collections, f.collectionId);
      continue;
    }
    const via = /^(.+)_via_(.+)$/.exec(name);
    if (!via) return null;
    cur = findCol(collections, via[1]);
  }
  return cur;
}

function match(list, partial) {
  const p = partial.toLowerCase();
  const starts = list.filter((s) => s.key.toLowerCase().startsWith(p));
  const contains = list.filter((s) => !s.key.toLowerCase().startsWith(p) && s.key.toLowerCase().includes(p));
  return [...starts, ...contains];
}

/** The field suggestions of `col` under `prefix` (relations also as back-relations). */
function fieldItems(col, prefix, collections, { backRelations = true } = {}) {
  const items = usableFields(col).map((f) => ({
    key: f.name,
    value: prefix + f.name,
    kind: f.type === 'relation' ? 'relation' : 'field',
    detail: f.type,
  }));
  if (backRelations && col?.id) {
    for (const ref of collections) {
      for (const f of ref.fields ?? []) {
        if (f.type === 'relation' && f.collectionId === col.id) {
          const key = `${ref.name}_via_${f.name}`;
          items.push({ key, value: prefix + key, kind: 'relation', detail: ref.name });
        }
      }
    }
  }
  return items;
}

/** The fields of every auth collection, merged by name (for `@request.auth.`). */
function authCollection(collections) {
  const fields = new Map();
  for (const c of collections) {
    if (c.type !== 'auth') continue;
    for (const f of usableFields(c)) if (!fields.has(f.name)) fields.set(f.name, f);
  }
  fields.set('collectionId', { name: 'collectionId', type: 'text' });
  fields.set('collectionName', { name: 'collectionName', type: 'text' });
  return { name: '@request.auth', fields: [...fields.values()] };
}

/**
 * The completion items for `word` (the identifier before the caret): `[{ value, label, kind,
 * detail }]`, `value` being the whole new word. `ctx`: `{ collection` (the draft, or a
 * pseudo-collection `{ name, fields }`), `collections` (every collection), `rule` (true in an API
 * rule: offers `@request.body.`, `@request.method` and `:isset`/`:changed`), `force` (asked for
 * with Ctrl+Space: an empty word lists everything) `}`.
 */
export function completions(word, { collection, collections = [], rule = false, force = false } = {}) {
  const items = complete(word ?? '', { collection, collections, rule, force });
  const seen = new Set();
  return items
    .filter((i) => (seen.has(i.value) ? false : seen.add(i.value)))
    .filter((i) => i.value !== word || i.value.endsWith('.'))
    .slice(0, 60)
    .map(({ key, ...rest }) => ({ label: rest.value, ...rest }));
}

function complete(word, { collection, collections, rule, force }) {
  if (!word && !force) return [];
  const real = !!collection?.id || !!collection?.type;
  const colon = word.lastIndexOf(':');
  const dot = word.lastIndexOf('.');

  // a modifier: `path:par`
  if (colon > dot) {
    const path = word.slice(0, colon);
    const partial = word.slice(colon + 1);
    if (/^@collection\.[^.]*$/.test(path)) return []; // `@collection.name:alias`
    if (path.startsWith('@request') && !rule) return [];
    let field = null;
    let body = false;
    let base = collection;
    let segs = path.split('.');
    if (path.startsWith('@request.body.')) {
      body = true;
      segs = segs.slice(2);
    } else if (path.startsWith('@request.auth.')) {
      base = authCollection(collections);
      segs = segs.slice(2);
    } else if (path.startsWith('@collection.')) {
      const [, name, ...rest] = segs;
      base = findCol(collections, name.split(':')[0]);
      segs = rest;
    } else if (path.startsWith('@')) return [];
    const owner = walk(base, segs.slice(0, -1), collections);
    field = usableFields(owner).find((f) => f.name === segs[segs.length - 1]) ?? null;
    if (!field && owner) return [];
    const mods = modifiersFor(field, { body: body && rule }).filter((m) => rule || (m !== 'isset' && m !== 'changed'));
    return match(mods.map((m) => ({ key: m, value: `${path}:${m}`, kind: 'modifier', detail: '' })), partial);
  }

  if (word.startsWith('@')) {
    if (dot < 0) {
      const top = [];
      if (rule) top.push({ key: '@request.', value: '@request.', kind: 'request', detail: '' });
      if (real) top.push({ key: '@collection.', value: '@collection.', kind: 'collection', detail: '' });
      for (const m of MACROS) top.push({ key: m, value: m, kind: 'macro', detail: '' });
      return match(top, word);
    }
    const segs = word.split('.');
    const partial = segs[segs.length - 1];
    if (segs[0] === '@request' && rule) {
      if (segs.length === 2) {
        const kids = [
          { key: 'auth.', kind: 'request' },
          { key: 'body.', kind: 'request' },
          { key: 'query.', kind: 'request' },
          { key: 'headers.', kind: 'request' },
          { key: 'method', kind: 'request' },
          { key: 'context', kind: 'request' },
        ];
        return match(kids.map((k) => ({ ...k, value: `@request.${k.key}`, detail: '' })), partial);
      }
      const prefix = segs.slice(0, -1).join('.') + '.';
      if (segs[1] === 'auth') {
        const col = walk(authCollection(collections), segs.slice(2, -1), collections);
        return match(fieldItems(col, prefix, collections, { backRelations: segs.length > 3 }), partial);
      }
      if (segs[1] === 'body') {
        if (segs.length > 3) {
          const col = walk(collection, segs.slice(2, -1), collections);
          return match(fieldItems(col, prefix, collections, { backRelations: false }), partial);
        }
        return match(fieldItems(collection, prefix, collections, { backRelations: false }), partial);
      }
      return [];
    }
    if (segs[0] === '@collection' && real) {
      if (segs.length === 2) {
        const names = collections.map((c) => ({ key: c.name, value: `@collection.${c.name}.`, kind: 'collection', detail: c.type }));
        return match(names, partial);
      }
      const prefix = segs.slice(0, -1).join('.') + '.';
      const col = walk(findCol(collections, segs[1].split(':')[0]), segs.slice(2, -1), collections);
      return match(fieldItems(col, prefix, collections), partial);
    }
    return [];
  }

  // a field path of the collection itself
  const segs = word.split('.');
  const partial = segs[segs.length - 1];
  const prefix = segs.length > 1 ? segs.slice(0, -1).join('.') + '.' : '';
  const col = walk(collection, segs.slice(0, -1), collections);
  const items = fieldItems(col, prefix, collections);
  if (segs.length === 1) {
    for (const k of ['true', 'false', 'null']) items.push({ key: k, value: k, kind: 'keyword', detail: '' });
    if (real) for (const [name, args] of Object.entries(FUNCTIONS)) items.push({ key: name, value: `${name}(`, kind: 'function', detail: args });
    if (force && !word) {
      if (rule) items.push({ key: '@request.', value: '@request.', kind: 'request', detail: '' });
      if (real) items.push({ key: '@collection.', value: '@collection.', kind: 'collection', detail: '' });
      for (const m of MACROS) items.push({ key: m, value: m, kind: 'macro', detail: '' });
    }
  }
  return match(items, partial);
}
