// `$dbx`: PocketBase's query expressions (ozzo-dbx's), as SQL with `{:name}` placeholders that
// Kiln binds (kiln-hooks/src/schema.rs: `[[column]]` and `{{table}}` are quoted there). Each
// expression is `{build(params)}`: its SQL, its values added to `params` under fresh names.
(() => {
  'use strict';
  const native = globalThis.__kiln;
  const js = native.js;

  const expr = (build) => Object.freeze({ build });
  let seq = 0;
  const bindValue = (params, v) => {
    const name = `dbx${seq++}`;
    params[name] = v;
    return `{:${name}}`;
  };
  const column = (name) => `[[${String(name)}]]`;
  const isExpr = (e) => e && typeof e.build === 'function';
  // the SQL of `e` (a $dbx expression, or raw SQL)
  const sqlOf = (e, params) => (isExpr(e) ? e.build(params) : String(e ?? ''));

  // `exp(sql, params)`: raw SQL; its placeholders renamed so that expressions never clash
  const exp = (sql, own = {}) => expr((params) =>
    String(sql).replace(/\{:(\w+)\}/g, (m, name) => (name in own ? bindValue(params, own[name]) : m)));

  const hashExp = (hash = {}) => expr((params) => {
    const parts = Object.keys(hash).sort().map((k) => {
      const v = hash[k];
      if (isExpr(v)) return sqlOf(v, params);
      if (v === null || v === undefined) return `${column(k)} IS NULL`;
      if (Array.isArray(v)) return sqlOf(inExp(k, ...v), params);
      return `${column(k)}=${bindValue(params, v)}`;
    }).filter(Boolean);
    return parts.length > 1 ? parts.map((p) => `(${p})`).join(' AND ') : parts.join('');
  });

  const join = (op) => (...list) => expr((params) => {
    const parts = list.filter(Boolean).map((e) => sqlOf(e, params)).filter((s) => s !== '');
    return parts.length > 1 ? parts.map((p) => `(${p})`).join(` ${op} `) : parts.join('');
  });

  const inExp = (col, ...values) => expr((params) => {
    const vs = values.flat();
    if (!vs.length) return '0=1';
    if (vs.length === 1 && vs[0] === null) return `${column(col)} IS NULL`;
    return `${column(col)} IN (${vs.map((v) => bindValue(params, v)).join(', ')})`;
  });
  const notIn = (col, ...values) => expr((params) => {
    const vs = values.flat();
    if (!vs.length) return '';
    return `${column(col)} NOT IN (${vs.map((v) => bindValue(params, v)).join(', ')})`;
  });

  // like(col, ...values): every value matched anywhere (`%`, `_` and `\` escaped), joined by
  // AND (or OR for the or* forms)
  const escapeLike = (v) => String(v).replace(/[\\%_]/g, (c) => `\\${c}`);
  const like = (not, or) => (col, ...values) => expr((params) => {
    const vs = values.flat();
    if (!vs.length) return '';
    // the dialect's case-insensitive LIKE, as PocketBase's SQLite one (schema.rs writes it)
    const op = not ? '!notlike' : '!like';
    return vs.map((v) => `{:${op}:${String(col)}:${bindValue(params, `%${escapeLike(v)}%`).slice(2, -1)}}`).join(or ? ' OR ' : ' AND ');
  });

  const between = (not) => (col, from, to) => expr((params) =>
    `${column(col)} ${not ? 'NOT BETWEEN' : 'BETWEEN'} ${bindValue(params, from)} AND ${bindValue(params, to)}`);
  const exists = (not) => (e) => expr((params) => `${not ? 'NOT EXISTS' : 'EXISTS'} (${sqlOf(e, params)})`);

  globalThis.$dbx = Object.freeze({
    exp,
    hashExp,
    not: (e) => expr((params) => `NOT (${sqlOf(e, params)})`),
    and: join('AND'),
    or: join('OR'),
    in: inExp,
    notIn,
    like: like(false, false),
    notLike: like(true, false),
    orLike: like(false, true),
    orNotLike: like(true, true),
    exists: exists(false),
    notExists: exists(true),
    between: between(false),
    notBetween: between(true),
  });

  // `{sql, params}` of the conditions `exprs`, joined by AND ('' when there are none).
  js.where = (exprs) => {
    const params = {};
    const sql = sqlOf(join('AND')(...exprs), params);
    return { sql, params };
  };
})();
