// The filter language's pure functions (tokenizer, syntax check, completion), without a browser.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  checkSyntax,
  completions,
  looksLikeFilter,
  tokenize,
  topLevelFields,
  usesRuleOnly,
  wordAt,
} from '../../crates/kiln-dashboard/ui/src/ui/rule-editor/lexer.js';

const users = {
  id: 'u1',
  name: 'users',
  type: 'auth',
  fields: [
    { name: 'id', type: 'text' },
    { name: 'password', type: 'password' },
    { name: 'tokenKey', type: 'text' },
    { name: 'email', type: 'email' },
    { name: 'name', type: 'text' },
  ],
};
const posts = {
  id: 'p1',
  name: 'posts',
  type: 'base',
  fields: [
    { name: 'id', type: 'text' },
    { name: 'title', type: 'text' },
    { name: 'author', type: 'relation', collectionId: 'u1', maxSelect: 1 },
    { name: 'tags', type: 'select', maxSelect: 3 },
    { name: 'created', type: 'autodate' },
  ],
};
const comments = { id: 'c1', name: 'comments', type: 'base', fields: [{ name: 'body', type: 'text' }, { name: 'post', type: 'relation', collectionId: 'p1', maxSelect: 1 }] };
const collections = [comments, posts, users];
const rule = { collection: posts, collections, rule: true };
const values = (word, ctx = rule) => completions(word, ctx).map((i) => i.value);
const kinds = (src) => tokenize(src).filter((t) => t.type !== 'ws').map((t) => `${t.type}:${t.text}`);

test('tokens cover the text and name every part', () => {
  const src = 'title:lower ?= "a\\"b" && (@request.body.tags:isset = true || n >= -1.5) // why\n@collection.users:u.email != @todayStart && geoDistance(1, 2, lon, lat) < 3.2';
  const toks = tokenize(src);
  assert.equal(toks.map((t) => t.text).join(''), src, 'nothing lost');
  for (let i = 1; i < toks.length; i++) assert.equal(toks[i].start, toks[i - 1].end);
  assert.deepEqual(kinds(src), [
    'field:title', 'modifier::lower', 'sign:?=', 'string:"a\\"b"', 'join:&&', 'paren:(',
    'request:@request.body.tags', 'modifier::isset', 'sign:=', 'keyword:true', 'join:||', 'field:n', 'sign:>=',
    'number:-1.5', 'paren:)', 'comment:// why', 'collection:@collection.users:u.email', 'sign:!=', 'macro:@todayStart',
    'join:&&', 'func:geoDistance', 'paren:(', 'number:1', 'comma:,', 'number:2', 'comma:,', 'field:lon', 'comma:,',
    'field:lat', 'paren:)', 'sign:<', 'number:3.2',
  ]);
  assert.equal(tokenize("'open").at(-1).open, true);
  assert.equal(tokenize('a => 1')[2].bad, true);
  assert.deepEqual(kinds("x ~ 'it''s'"), ['field:x', 'sign:~', "string:'it'", "string:'s'"]);
});

test('the syntax check finds the first problem', () => {
  const fields = posts.fields.map((f) => f.name);
  const code = (src) => checkSyntax(src, { fields })?.code ?? null;
  for (const ok of [
    '',
    'title = "a"',
    '(title = 1 || tags:length > 2) && author.name ~ "x"',
    '@request.auth.id != "" && @request.body.title:changed = false',
    'strftime("%Y", created) = "2024" // a comment\n&& geoDistance(1, 2, 3, 4) < 5',
    'comments_via_post.body ?~ "x"',
    '@collection.comments.post ?= id',
    'title = null',
  ]) {
    assert.equal(code(ok), null, ok);
  }
  assert.equal(code('(title = 1'), 'unclosedParen');
  assert.equal(code('title = 1)'), 'extraParen');
  assert.equal(code('title ~ "x'), 'unclosedString');
  assert.equal(code('title ='), 'missingOperand');
  assert.equal(code('= 1'), 'missingOperand');
  assert.equal(code('title = 1 &&'), 'missingOperand');
  assert.equal(code('title = 1 title = 2'), 'missingOperator');
  assert.equal(code('title => 1'), 'badOperator');
  assert.equal(code('title = 1 & x = 2'), 'badOperator');
  assert.equal(code('@nowish > 1'), 'unknownMacro');
  assert.equal(code('()'), 'emptyGroup');
  assert.equal(code('title = 1 ;'), 'unexpected');
  const p = checkSyntax('title = 1 && nope.x = 2', { fields });
  assert.deepEqual(p, { code: 'unknownField', start: 13, end: 19, vars: { name: 'nope' } });
  assert.equal(checkSyntax('nope = 1'), null, 'without field names, any name goes');
});

test('rule-only parts, filters and field names', () => {
  assert.equal(usesRuleOnly('@request.body.title = 1'), true);
  assert.equal(usesRuleOnly('@request.method = "GET"'), true);
  assert.equal(usesRuleOnly('title:changed = false'), true);
  assert.equal(usesRuleOnly('@request.body.x:isset = true'), true);
  assert.equal(usesRuleOnly('@request.auth.id != "" && title:lower = "x"'), false);
  assert.equal(looksLikeFilter('hello world'), false);
  assert.equal(looksLikeFilter('title ~ "x"'), true);
  assert.deepEqual(topLevelFields('title = 1 && author.name = 2 && tags:length > 1 && @request.auth.id = ""'), ['title', 'author', 'tags']);
});

test('the word at the caret', () => {
  assert.deepEqual(wordAt('a = 1 && auth', 13), { start: 9, end: 13, word: 'auth' });
  assert.deepEqual(wordAt('author.na = 1', 8), { start: 0, end: 9, word: 'author.n' });
  assert.equal(wordAt('title = "au', 11), null, 'inside a string');
  assert.equal(wordAt('x = 1 // tit', 12), null, 'inside a comment');
  assert.deepEqual(wordAt('x = "a" && ', 11), { start: 11, end: 11, word: '' });
});

test('completion of fields, relations, modifiers, @request, @collection and macros', () => {
  assert.deepEqual(values('ti').slice(0, 1), ['title']);
  assert.deepEqual(values('author.'), ['author.id', 'author.email', 'author.name', 'author.posts_via_author']);
  assert.deepEqual(values('author.na'), ['author.name']);
  assert.deepEqual(values('comm'), ['comments_via_post']);
  assert.deepEqual(values('@re'), ['@request.']);
  assert.deepEqual(values('@request.'), ['@request.auth.', '@request.body.', '@request.query.', '@request.headers.', '@request.method', '@request.context']);
  assert.deepEqual(values('@request.auth.'), ['@request.auth.id', '@request.auth.email', '@request.auth.name', '@request.auth.collectionId', '@request.auth.collectionName']);
  assert.ok(!values('@request.auth.').some((v) => /password|tokenKey/.test(v)), 'no secrets');
  assert.deepEqual(values('@request.body.ti'), ['@request.body.title']);
  assert.deepEqual(values('@request.body.title:'), ['@request.body.title:isset', '@request.body.title:changed', '@request.body.title:lower']);
  assert.deepEqual(values('@request.body.author.'), ['@request.body.author.id', '@request.body.author.email', '@request.body.author.name']);
  assert.deepEqual(values('tags:'), ['tags:each', 'tags:length']);
  assert.deepEqual(values('author:'), [], 'a single relation has no :each');
  assert.deepEqual(values('@collection.'), ['@collection.comments.', '@collection.posts.', '@collection.users.']);
  assert.deepEqual(values('@collection.comments.'), ['@collection.comments.body', '@collection.comments.post']);
  assert.deepEqual(values('@collection.comments.post.ti'), ['@collection.comments.post.title']);
  assert.deepEqual(values('@collection.comments:c.bo'), ['@collection.comments:c.body']);
  assert.deepEqual(values('@to'), ['@tomorrow', '@todayStart', '@todayEnd']);
  assert.deepEqual(values('title'), [], 'a complete word closes the list');
  assert.deepEqual(values(''), [], 'nothing without a word…');
  const all = values('', { ...rule, force: true });
  assert.ok(['title', '@request.', '@collection.', '@now', 'geoDistance(', 'true'].every((v) => all.includes(v)), '…but everything on Ctrl+Space');
  const item = completions('author.em', rule)[0];
  assert.deepEqual(item, { label: 'author.email', value: 'author.email', kind: 'field', detail: 'email' });
});

test('a filter (not a rule) offers no request keys, a plain pseudo-collection no joins', () => {
  const filter = { collection: posts, collections };
  assert.deepEqual(values('@re', filter), []);
  assert.deepEqual(values('title:', filter), ['title:lower']);
  assert.deepEqual(values('@request.body.title:', { ...filter }), []);
  const logs = { collection: { name: 'logs', fields: [{ name: 'level', type: 'number' }, { name: 'data', type: 'json' }] }, collections };
  assert.deepEqual(values('lev', logs), ['level']);
  assert.deepEqual(values('@co', logs), []);
  assert.deepEqual(values('data.', logs), []);
  assert.deepEqual(values('@no', logs), ['@now']);
});
