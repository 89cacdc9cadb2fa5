// App hooks (pb_hooks) beyond records and routes: a CommonJS helpers module (`require`,
// `__hooks`, module.exports / exports, a .json file, relative requires inside modules), app hooks
// (onBootstrap, onTerminate), onRecordValidate, the mailer hooks and custom mails ($mails,
// MailerMessage), the auth-flow request hooks (password, refresh, OTP, OAuth2, verification,
// password reset, email change) and the realtime hooks. The same files and the same scripted
// requests against PocketBase 0.40.6 and Kiln leave the same traces: the answers, the `hooklog`
// records the hooks save, the mails a real SMTP server receives (services/smtp.mjs, an OpenID
// Connect provider for OAuth2: services/oidc.mjs) and the messages an SSE client receives —
// compared after normalizing ids, tokens, dates and codes.
//
// PocketBase 0.40.6 has no `onServe` in its JS hooks (a file calling it stops loading there with
// "ReferenceError: onServe is not defined"); routes come from routerAdd/routerUse, so this suite
// does not use it.
//
//   KILN_APP_HOOKS_PB_ONLY=1  run the PocketBase side only (checks this suite's expectations of it)
//   cd tests/sdk && node --test --test-force-exit app_hooks.test.mjs
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import PocketBase from 'pocketbase';
import { startServer, SUPERUSER, pocketbaseBin } from './server.mjs';
import { startSmtp } from './services/smtp.mjs';
import { startOidc } from './services/oidc.mjs';

const PB_ONLY = !!process.env.KILN_APP_HOOKS_PB_ONLY;
const APP_URL = 'https://app.example.test';
const PASSWORD = 'First-pass-123';
const NEW_PASSWORD = 'Second-pass-456';

const FILES = {
  'views/layout.html': '<html><body>{{template "content" .}}</body></html>',
  'views/page.html': '{{define "content"}}<h1>{{.title}}</h1><a href="{{.link}}">{{.name}}</a><ul>{{range .items}}<li>{{.}}</li>{{end}}</ul>{{raw .note}}{{end}}',
  'config.json': JSON.stringify({ greeting: 'Howdy', separator: '-', invite: 'let-me-in' }),
  'lib/text.js': String.raw`
const config = require("../config.json");
exports.slug = (s) => String(s).trim().toLowerCase().replace(/[^a-z0-9]+/g, config.separator);
`,
  // each handler runs on its own (top-level code of a .pb.js file is not in its scope): shared
  // helpers come through require()
  'utils.js': String.raw`
const config = require("./config.json");
const { slug } = require("./lib/text.js");
module.exports = {
  greet: (name) => config.greeting + ", " + (name || "stranger") + "!",
  slug,
  invite: config.invite,
  suspended: (record) => !!record && record.getBool("suspended"),
  log: (kind, msg) => {
    const entry = new Record($app.findCollectionByNameOrId("hooklog"));
    entry.set("kind", kind);
    entry.set("msg", String(msg));
    $app.save(entry);
  },
};
`,
  'main.pb.js': String.raw`
// --- require ---------------------------------------------------------------------------------
routerAdd("GET", "/api/app/utils", (e) => {
  const utils = require(__hooks + "/utils.js");
  let missing = "loaded";
  try { require(__hooks + "/nope.js"); } catch (err) { missing = "missing"; }
  return e.json(200, {
    greeting: utils.greet(e.request.url.query().get("name")),
    slug: utils.slug(" Hello, Kiln World "),
    config: require(__hooks + "/config.json"),
    cached: require(__hooks + "/utils.js") === utils,
    hooks: __hooks,
    missing,
  });
});

// --- $dbx and expandRecord ------------------------------------------------------------------
routerAdd("GET", "/api/app/query", (e) => {
  const emails = (list) => list.map((r) => r.email()).sort();
  const note = $app.findFirstRecordByFilter("notes", "title = 'first'");
  $app.expandRecord(note, ["author", "tags"], null);
  const plain = $app.findFirstRecordByFilter("notes", "title = 'second'");
  $app.expandRecords([plain], ["author"], null);
  return e.json(200, {
    unverifiedExample: emails($app.findAllRecords("users", $dbx.hashExp({ verified: false }), $dbx.like("email", "EXAMPLE.com"))),
    all: $app.findAllRecords("users").length,
    named: $app.countRecords("users", $dbx.in("name", "Alice", "Bob", "Nobody")),
    either: emails($app.findAllRecords("users", $dbx.or($dbx.hashExp({ name: "Carol" }), $dbx.exp("name = {:n}", { n: "Dave" })))),
    notExample: emails($app.findAllRecords("users", $dbx.not($dbx.like("email", "example")))),
    orLike: $app.countRecords("users", $dbx.orLike("name", "ali", "bo")),
    escaped: $app.countRecords("users", $dbx.like("email", "%")),
    between: $app.countRecords("users", $dbx.between("name", "B", "D")),
    none: $app.countRecords("users", $dbx.in("name")),
    author: note.expandedOne("author").email(),
    tags: note.expandedAll("tags").map((t) => t.getString("title")),
    noteJSON: note,
    plainAuthor: plain.expandedOne("author").getString("name"),
  });
});

// --- model hooks of the app's own writes: sign-ups, account flows, cascades ---------------------
onRecordCreate((e) => {
  if (e.record.getString("name") === "") e.record.set("name", "Member " + e.record.email().split("@")[0]);
  e.next();
}, "users");
onRecordAfterUpdateSuccess((e) => {
  // (not Dave's: whether his OTP sign-in verifies him races in PocketBase, which stores where
  // the code went only once the mail is out; Kiln stores it with the code)
  if (e.record.verified() !== e.record.original().verified() && !e.record.email().startsWith("dave")) {
    require(__hooks + "/utils.js").log("verified", e.record.email() + " " + e.record.verified());
  }
  e.next();
}, "users");
onRecordDelete((e) => {
  if (e.record.getString("text") === "keep me") throw new BadRequestError("This comment stays.");
  // inside the delete's transaction: e.app writes in it
  const entry = new Record(e.app.findCollectionByNameOrId("hooklog"));
  entry.set("kind", "deleted");
  entry.set("msg", e.record.collection().name + " " + e.record.getString("text"));
  e.app.save(entry);
  e.next();
}, "comments");

// --- collection hooks -------------------------------------------------------------------------
onCollectionCreateRequest((e) => {
  if (e.collection.name.startsWith("tmp_")) throw new BadRequestError("No temporary collections.");
  if (e.collection.name.startsWith("gadget")) e.collection.listRule = "";
  e.next();
});
onCollectionUpdateRequest((e) => { // (PocketBase's collection request hooks take no tags)
  if (e.collection.name === "gadgets") e.collection.viewRule = "id != ''";
  e.next();
});
onCollectionDeleteRequest((e) => {
  if (e.collection.name === "keepme") throw new ForbiddenError("Keep it.");
  e.next();
});
onCollectionViewRequest((e) => {
  if (e.collection.name === "secrets") throw new ForbiddenError("Hidden.");
  e.next();
});
onCollectionAfterCreateSuccess((e) => {
  if (e.collection.name.startsWith("gadget")) require(__hooks + "/utils.js").log("collection-created", e.collection.name + " [" + e.collection.listRule + "]");
  e.next();
});
onCollectionAfterDeleteSuccess((e) => {
  require(__hooks + "/utils.js").log("collection-deleted", e.collection.name);
  e.next();
}, "gadgets");

// --- $apis middlewares -----------------------------------------------------------------------
routerAdd("POST", "/api/app/small", (e) => e.json(200, { ok: true }), $apis.bodyLimit(20));
routerAdd("GET", "/api/app/zipped", (e) => e.string(200, "zip ".repeat(500)), $apis.gzip());
routerAdd("GET", "/api/app/quiet", (e) => e.json(200, { quiet: true }), $apis.skipSuccessActivityLog());

// --- $template and $filesystem ---------------------------------------------------------------
routerAdd("GET", "/api/app/page", (e) => {
  const html = $template.loadFiles(__hooks + "/views/layout.html", __hooks + "/views/page.html").render({
    title: e.request.url.query().get("title"), link: "javascript:alert(1)", name: "<Ann & Bob>", items: [1, 2.5, "three"], note: "<em>trusted</em>",
  });
  const inline = $template.loadString("Hi {{.who}}, {{len .list}} items").render({ who: "<you>", list: [1, 2] });
  let broken = "rendered";
  try { $template.loadString("{{.oops").render({}); } catch (err) { broken = "error"; }
  return e.json(200, { html, inline, broken });
});
routerAdd("POST", "/api/app/docs", (e) => {
  const doc = new Record($app.findCollectionByNameOrId("docs"));
  doc.set("title", "files");
  doc.set("one", $filesystem.fileFromBytes([104, 105, 33], "hello.txt"));
  doc.set("many", [$filesystem.fileFromPath(__hooks + "/config.json"), $filesystem.fileFromBytes([123, 125], "empty.json")]);
  $app.save(doc);
  const more = $app.findRecordById("docs", doc.id);
  more.set("many", [...more.getStringSlice("many"), $filesystem.fileFromBytes([91, 93], "list.json")]);
  $app.save(more);
  const plain = (n) => n.replace(/_[a-z0-9]{10}\./, "_<rand>.");
  return e.json(200, { one: plain(more.getString("one")), many: more.getStringSlice("many").map(plain) });
});

// --- app hooks -------------------------------------------------------------------------------
onBootstrap((e) => {
  e.next();
  try { // the first start has no hooklog yet
    require(__hooks + "/utils.js").log("bootstrap", e.app.settings().meta.appName);
  } catch (err) {}
});
onTerminate((e) => {
  require(__hooks + "/utils.js").log("terminate", "restart " + e.isRestart);
  e.next();
});

// --- validation on every save ----------------------------------------------------------------
onRecordValidate((e) => {
  const title = e.record.getString("title");
  if (/spam/i.test(title)) {
    throw new BadRequestError("Spam is not welcome.", { title: new ValidationError("no_spam", "No spam, please.") });
  }
  if (title === "TODO") throw new Error("Write a real title.");
  e.next();
}, "posts");
routerAdd("POST", "/api/app/posts", (e) => {
  const body = e.requestInfo().body;
  const post = new Record($app.findCollectionByNameOrId("posts"));
  post.set("title", body.title);
  if (body.uncaught) $app.save(post);
  else try { $app.save(post); } catch (err) { return e.json(200, { saved: false, message: err.message }); }
  return e.json(200, { saved: true });
});

// --- mails -----------------------------------------------------------------------------------
onMailerSend((e) => {
  if (e.message.to.some((a) => a.address.endsWith("@blackhole.test"))) return; // dropped quietly
  if (e.message.subject.includes("forbidden")) throw new BadRequestError("This mail may not be sent.");
  e.message.subject = "[" + $app.settings().meta.appName + "] " + e.message.subject;
  e.message.headers = Object.assign({}, e.message.headers, { "X-Hooked": "yes" });
  e.next();
});
onMailerRecordVerificationSend((e) => {
  const name = e.record.getString("name");
  if (name === "Quiet") return; // no welcome mail for this one
  e.message.subject = "Welcome aboard, " + name;
  e.message.html = "<p>Hi " + name + ",</p><p><a href=\"" + $app.settings().meta.appURL + "/verify/" + e.meta.token + "\">Confirm</a></p>";
  e.next();
}, "users");
onMailerRecordPasswordResetSend((e) => {
  e.message.subject = "Reset for " + e.record.email() + " [" + Object.keys(e.meta).join(",") + "]";
  e.next();
}, "users");
onMailerRecordEmailChangeSend((e) => {
  if (e.meta.newEmail.endsWith("@bounce.test")) throw new BadRequestError("That mailbox bounces.");
  e.message.subject = "Confirm " + e.record.email() + " -> " + e.meta.newEmail;
  e.next();
}, "users");
onMailerRecordOTPSend((e) => {
  e.message.subject = "Your code is " + e.meta.password;
  e.message.html = "<p>Code <b>" + e.meta.password + "</b> for " + e.message.to[0].address + "</p>";
  e.next();
}, "users");
onMailerRecordAuthAlertSend((e) => {
  e.message.subject = "New sign-in for " + e.record.getString("name") + " [" + Object.keys(e.meta).join(",") + "]";
  e.message.cc = [{ address: "security@example.test", name: "Security" }];
  e.next();
}, "users");
routerAdd("POST", "/api/app/contact", (e) => {
  const body = e.requestInfo().body;
  const message = new MailerMessage({
    from: { address: $app.settings().meta.senderAddress, name: $app.settings().meta.senderName },
    to: [{ address: body.to, name: body.name || "" }],
    cc: [{ address: "support@example.test" }],
    bcc: [{ address: "archive@example.test" }],
    subject: body.subject,
    html: "<p>" + body.message + "</p>",
    text: body.message,
    headers: { "X-Ticket": "T-" + body.ticket },
  });
  $app.newMailClient().send(message);
  return e.json(200, { sent: true });
});
routerAdd("POST", "/api/app/remind/{id}", (e) => {
  const user = $app.findRecordById("users", e.request.pathValue("id"));
  const body = e.requestInfo().body;
  if (body.kind === "verify") $mails.sendRecordVerification($app, user);
  if (body.kind === "reset") $mails.sendRecordPasswordReset($app, user);
  if (body.kind === "email") $mails.sendRecordChangeEmail($app, user, body.newEmail);
  if (body.kind === "otp") $mails.sendRecordOTP($app, user, body.otpId, body.pass);
  return e.json(200, { kind: body.kind });
}, $apis.requireSuperuserAuth());

// --- sign-in flows ---------------------------------------------------------------------------
onRecordAuthWithPasswordRequest((e) => {
  const u = require(__hooks + "/utils.js");
  u.log("password", [e.collection.name, e.identity, e.identityField || "-", e.password.length, e.record ? e.record.email() : "-"].join(" "));
  if (e.identity === "legacy@example.com") return e.json(200, { legacy: true });
  if (u.suspended(e.record)) throw new ForbiddenError("This account is suspended.");
  try {
    e.next(); // a failed sign-in is the error e.next() throws (a lockout counts them)
  } catch (err) {
    u.log("password-failed", e.identity + " " + err.message);
    throw err;
  }
}, "users");
onRecordAuthRefreshRequest((e) => {
  const u = require(__hooks + "/utils.js");
  u.log("refresh", e.collection.name + " " + e.record.email());
  if (u.suspended(e.record)) throw new ForbiddenError("This account is suspended.");
  e.next();
}, "users");
onRecordRequestOTPRequest((e) => {
  const u = require(__hooks + "/utils.js");
  u.log("request-otp", (e.record ? e.record.email() : "-") + " " + e.password.length);
  if (u.suspended(e.record)) throw new ForbiddenError("This account is suspended.");
  e.next();
}, "users");
onRecordAuthWithOTPRequest((e) => {
  require(__hooks + "/utils.js").log("otp", e.record.email() + " verified " + e.record.verified());
  e.next();
}, "users");
onRecordRequestPasswordResetRequest((e) => {
  const u = require(__hooks + "/utils.js");
  u.log("request-reset", e.record.email());
  if (u.suspended(e.record)) throw new BadRequestError("Ask an admin to reset a suspended account.");
  e.next();
}, "users");
onRecordConfirmPasswordResetRequest((e) => {
  require(__hooks + "/utils.js").log("confirm-reset", e.record.email());
  e.next();
}, "users");
onRecordRequestVerificationRequest((e) => {
  require(__hooks + "/utils.js").log("request-verification", e.record.email());
  if (e.record.email().endsWith("@disposable.test")) return e.json(200, { disposable: true });
  e.next();
}, "users");
onRecordConfirmVerificationRequest((e) => {
  const before = e.record.verified();
  e.next();
  require(__hooks + "/utils.js").log("confirm-verification", e.record.email() + " " + before + ">" + e.record.verified());
}, "users");
onRecordRequestEmailChangeRequest((e) => {
  require(__hooks + "/utils.js").log("request-email-change", e.record.email() + " > " + e.newEmail);
  if (e.newEmail.endsWith("@competitor.test")) {
    throw new BadRequestError("Use your work address.", { newEmail: new ValidationError("work_address", "Use your work address.") });
  }
  e.next();
}, "users");
onRecordConfirmEmailChangeRequest((e) => {
  require(__hooks + "/utils.js").log("confirm-email-change", e.record.email() + " > " + e.newEmail);
  e.next();
}, "users");
onRecordAuthWithOAuth2Request((e) => {
  const u = require(__hooks + "/utils.js");
  u.log("oauth2", [e.providerName, e.oAuth2User.email, "new " + e.isNewRecord, e.record ? e.record.email() : "-"].join(" "));
  if (e.isNewRecord) { // sign-ups by invitation only
    if ((e.createData || {}).invite !== u.invite) throw new ForbiddenError("Sign-ups need an invite.");
    e.createData = { name: e.oAuth2User.name + " (invited)" };
  }
  e.next();
}, "users");

// --- realtime --------------------------------------------------------------------------------
onRealtimeConnectRequest((e) => {
  // PocketBase: the realtime events have no e.request; their headers are in e.requestInfo()
  if (e.requestInfo().headers["x_block"] === "yes") throw new ForbiddenError("No live updates for you.");
  require(__hooks + "/utils.js").log("connect", e.auth ? e.auth.email() : "guest");
  e.next(); // holds the connection until it ends
});
onRealtimeSubscribeRequest((e) => {
  if (e.subscriptions.some((s) => s.startsWith("hooklog"))) throw new ForbiddenError("The hook log is private.");
  e.subscriptions = e.subscriptions.filter((s) => !s.startsWith("secrets"));
  require(__hooks + "/utils.js").log("subscribe", e.subscriptions.join(","));
  e.next();
});
onRealtimeMessageSend((e) => {
  if (e.message.name.startsWith("posts") && toString(e.message.data).includes("draft:")) return; // drafts stay quiet
  e.next();
});
`,
};

const BAD_BOOT = 'onBootstrap((e) => { e.next(); throw new Error("missing payment keys"); });\n';

function writeHooks(files) {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-app-hooks-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function until(pred, what, ms = 10_000) {
  for (const end = Date.now() + ms; !pred(); await sleep(25)) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
  }
}

/** An SSE client on /api/realtime: { status, body } when refused, else { clientId, events, close }. */
async function connect(url, headers = {}) {
  const ctl = new AbortController();
  const res = await fetch(url + '/api/realtime', { headers, signal: ctl.signal });
  if (res.status !== 200) return { status: res.status, body: await res.json() };
  const events = [];
  (async () => {
    const dec = new TextDecoder();
    let buf = '';
    try {
      for await (const chunk of res.body) {
        buf += dec.decode(chunk, { stream: true });
        for (let i; (i = buf.indexOf('\n\n')) >= 0; buf = buf.slice(i + 2)) {
          const ev = Object.fromEntries(buf.slice(0, i).split('\n').map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1)]));
          events.push({ name: ev.event, data: JSON.parse(ev.data) });
        }
      }
    } catch {} // aborted
  })();
  await until(() => events.length > 0, 'PB_CONNECT');
  return { status: 200, clientId: events[0].data.clientId, events, close: () => ctl.abort() };
}

const addresses = (h) => (h ? h.value.map((a) => (a.name ? `${a.name} <${a.address}>` : a.address)).join(', ') : null);
/** What both servers must agree on in a mail (`html` only where the hooks or the route wrote it). */
const mailView = (m, html = false) => ({
  envelope: [...m.to].sort(),
  from: addresses(m.headers.get('from')),
  to: addresses(m.headers.get('to')),
  cc: addresses(m.headers.get('cc')),
  subject: m.subject,
  hooked: m.headers.get('x-hooked') ?? null,
  ticket: m.headers.get('x-ticket') ?? null,
  ...(html ? { html: m.html } : {}),
});
/** The token of a `{APP_URL}/_/#/auth/<action>/{TOKEN}` link (PocketBase's default templates). */
const linkToken = (m, action) => m.html.match(new RegExp(`/_/#/auth/${action}/([\\w.-]+)`))?.[1];

/** Runs the whole scenario on one server (PocketBase when `bin` is given) and returns its traces. */
async function scenario(bin) {
  const hooks = writeHooks(FILES);
  const smtp = await startSmtp();
  let server;
  let first; // the server before the restart
  let oidc;
  const out = {};
  const sse = [];
  const codes = []; // OTP codes, different on each run
  // what differs between any two runs: the hooks dir, tokens, OTP codes, collection ids, dates, ids
  const norm = (v) => {
    let text = JSON.stringify(v ?? null).replaceAll(hooks, '<hooks>').replace(/eyJ[\w-]+\.[\w-]+\.[\w-]+/g, '<jwt>');
    for (const code of codes) text = text.replaceAll(code, '<code>');
    return JSON.parse(text
      .replace(/"collectionId":"\w+"/g, '"collectionId":"<collection>"')
      .replace(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)?Z/g, '<date>')
      .replace(/(?<![\w-])[a-z0-9]{15}(?![\w-])/g, '<id>'));
  };
  const record = (key, v) => (out[key] = norm(v));
  try {
    server = await startServer({ bin, serveArgs: ['--hooksDir', hooks] });
    oidc = await startOidc({ redirectUris: [`${server.url}/api/oauth2-redirect`] });
    const su = new PocketBase(server.url);
    su.autoCancellation(false);
    await su.collection('_superusers').authWithPassword(SUPERUSER.email, SUPERUSER.password);
    const call = async (method, path, body, { token, headers = {} } = {}) => {
      const h = { ...headers };
      if (token) h.Authorization = token;
      if (body) h['Content-Type'] = 'application/json';
      const res = await fetch(server.url + path, { method, headers: h, body: body ? JSON.stringify(body) : undefined });
      const text = await res.text();
      try {
        return { status: res.status, body: text ? JSON.parse(text) : null };
      } catch {
        return { status: res.status, body: text };
      }
    };
    const auth = (action, body, opts) => call('POST', `/api/collections/users/${action}`, body, opts); // the auth API
    const mailFor = (to, subject) => smtp.waitFor((m) => m.to.includes(to) && (!subject || m.subject.includes(subject)));

    await su.settings.update({
      meta: { appName: 'Hooked App', appURL: APP_URL, senderName: 'Hooked Mailer', senderAddress: 'noreply@example.test' },
      smtp: { enabled: true, host: smtp.host, port: smtp.port, tls: false },
    });
    await su.collections.create({ name: 'hooklog', type: 'base', fields: [{ name: 'kind', type: 'text' }, { name: 'msg', type: 'text' }] });
    const open = { listRule: '', viewRule: '', createRule: '', updateRule: '' };
    await su.collections.create({ name: 'posts', type: 'base', ...open, fields: [{ name: 'title', type: 'text' }] });
    await su.collections.create({ name: 'secrets', type: 'base', ...open, fields: [{ name: 'title', type: 'text' }] });
    const d = oidc.discovery;
    await su.collections.update('users', {
      fields: [...(await su.collections.getOne('users')).fields, { name: 'suspended', type: 'bool' }],
      otp: { enabled: true },
      oauth2: { enabled: true, providers: [{ name: 'oidc', clientId: oidc.clientId, clientSecret: oidc.clientSecret, authURL: d.authorization_endpoint, tokenURL: d.token_endpoint, userInfoURL: d.userinfo_endpoint, pkce: true }] },
    });
    const users = {};
    for (const name of ['Alice', 'Bob', 'Carol', 'Quiet', 'Dave', 'Erin', 'Dana']) {
      const email = name === 'Dana' ? 'dana@disposable.test' : `${name.toLowerCase()}@example.com`;
      users[name] = await su.collection('users').create({ email, name, password: PASSWORD, passwordConfirm: PASSWORD });
    }

    // require: a module, a module required by a module, exports, a .json file
    record('utils', await call('GET', '/api/app/utils?name=Ann'));

    // $dbx conditions and the expansion of relations from a route
    const tags = await su.collections.create({ name: 'tags', type: 'base', fields: [{ name: 'title', type: 'text' }] });
    const usersId = (await su.collections.getOne('users')).id;
    await su.collections.create({ name: 'notes', type: 'base', fields: [
      { name: 'title', type: 'text' },
      { name: 'author', type: 'relation', collectionId: usersId, maxSelect: 1 },
      { name: 'tags', type: 'relation', collectionId: tags.id, maxSelect: 5 },
    ] });
    const t1 = await su.collection('tags').create({ title: 'red' });
    const t2 = await su.collection('tags').create({ title: 'blue' });
    await su.collection('notes').create({ title: 'first', author: users.Carol.id, tags: [t2.id, t1.id] });
    await su.collection('notes').create({ title: 'second', author: users.Dave.id });
    record('query', await call('GET', '/api/app/query'));

    // a cascade runs the delete hooks of each record it deletes (and one may refuse it)
    const notesId = (await su.collections.getOne('notes')).id;
    await su.collections.create({ name: 'comments', type: 'base', fields: [
      { name: 'text', type: 'text' },
      { name: 'note', type: 'relation', collectionId: notesId, maxSelect: 1, cascadeDelete: true },
    ] });
    const extra = await su.collection('notes').create({ title: 'third' });
    const kept = await su.collection('notes').create({ title: 'fourth' });
    await su.collection('comments').create({ text: 'bye', note: extra.id });
    await su.collection('comments').create({ text: 'so long', note: extra.id });
    await su.collection('comments').create({ text: 'keep me', note: kept.id });
    record('cascade', [
      await call('DELETE', `/api/collections/notes/records/${extra.id}`, null, { token: su.authStore.token }),
      await call('DELETE', `/api/collections/notes/records/${kept.id}`, null, { token: su.authStore.token }),
      (await su.collection('comments').getFullList({ sort: 'text' })).map((c) => c.text),
    ]);

    // the collections API through its hooks
    const cols = (method, path, body) => call(method, '/api/collections' + path, body, { token: su.authStore.token });
    const gadgets = await cols('POST', '', { name: 'gadgets', type: 'base', fields: [{ name: 'title', type: 'text' }] });
    const updated = await cols('PATCH', '/gadgets', { deleteRule: null });
    await cols('POST', '', { name: 'keepme', type: 'base' });
    record('collections', [
      await cols('POST', '', { name: 'tmp_x', type: 'base' }),
      [gadgets.status, gadgets.body.listRule, gadgets.body.viewRule],
      [updated.status, updated.body.listRule, updated.body.viewRule],
      await cols('GET', '/secrets'),
      (await cols('GET', '/posts')).status,
      await cols('DELETE', '/keepme'),
      await cols('DELETE', '/gadgets'),
    ]);

    // $apis.bodyLimit, gzip and skipSuccessActivityLog
    const zipped = await fetch(server.url + '/api/app/zipped', { headers: { 'Accept-Encoding': 'gzip' } });
    record('apis', [
      await call('POST', '/api/app/small', { a: 1 }),
      await call('POST', '/api/app/small', { text: 'far more than twenty bytes' }),
      [zipped.status, zipped.headers.get('content-encoding'), (await zipped.text()).length],
      await call('GET', '/api/app/quiet'),
    ]);

    // $template (Go's html/template) and files saved from $filesystem
    record('page', await call('GET', '/api/app/page?title=' + encodeURIComponent('<script>x</script>')));
    await su.collections.create({ name: 'docs', type: 'base', fields: [
      { name: 'title', type: 'text' },
      { name: 'one', type: 'file', maxSelect: 1, maxSize: 1000 },
      { name: 'many', type: 'file', maxSelect: 5, maxSize: 1000 },
    ] });
    record('docs', await call('POST', '/api/app/docs'));

    // onRecordValidate: the records API (create and update) and $app.save
    const post = await call('POST', '/api/collections/posts/records', { title: 'Hello' });
    record('validate', [
      post,
      await call('POST', '/api/collections/posts/records', { title: 'Buy SPAM now' }),
      await call('POST', '/api/collections/posts/records', { title: 'TODO' }),
      await call('PATCH', `/api/collections/posts/records/${post.body.id}`, { title: 'spam again' }),
      await call('PATCH', `/api/collections/posts/records/${post.body.id}`, { title: 'Hello again' }),
      await call('POST', '/api/app/posts', { title: 'Routed' }),
      await call('POST', '/api/app/posts', { title: 'routed spam' }),
      await call('POST', '/api/app/posts', { title: 'routed spam', uncaught: true }),
      await call('POST', '/api/app/posts', { title: 'TODO', uncaught: true }),
      (await su.collection('posts').getFullList({ sort: 'title' })).map((p) => p.title),
    ]);

    // a custom mail from a route; onMailerSend drops one and refuses another
    const contact = (to, subject) => call('POST', '/api/app/contact', { to, name: 'Ann', subject, message: 'Your order shipped.', ticket: 42 });
    record('contact', [await contact('ann@example.com', 'Order update'), await contact('void@blackhole.test', 'Lost'), await contact('ann@example.com', 'forbidden words')]);
    record('contactMail', mailView(await mailFor('ann@example.com'), true));

    // password sign-in: the event's fields, a suspended account, a hook answering itself
    const signIn = (identity, password = PASSWORD, extra = {}, headers = {}) => auth('auth-with-password', { identity, password, ...extra }, { headers });
    const alice = await signIn('alice@example.com');
    const bob = await signIn('bob@example.com');
    await su.collection('users').update(users.Bob.id, { suspended: true });
    record('password', [
      alice,
      await signIn('alice@example.com', 'wrong-password'),
      await signIn('alice@example.com', PASSWORD, { identityField: 'email' }),
      await signIn('bob@example.com'),
      await signIn('ghost@example.com'),
      await signIn('legacy@example.com'),
    ]);
    record('refresh', [await auth('auth-refresh', null, { token: alice.body.token }), await auth('auth-refresh', null, { token: bob.body.token })]);
    // a sign-in from a new device: the alert mail, altered
    const fresh = await signIn('alice@example.com', PASSWORD, {}, { 'User-Agent': 'HookBrowser/1.0' });
    record('alert', [fresh.status, mailView(await mailFor('alice@example.com', 'New sign-in'))]);

    // verification: a custom welcome mail whose link confirms; a quiet one; a hook answering; an
    // unknown address (PocketBase answers 204 before the hook)
    const verify = (email) => auth('request-verification', { email });
    record('requestVerification', [await verify('carol@example.com'), await verify('quiet@example.com'), await verify('dana@disposable.test'), await verify('ghost@example.com')]);
    const welcome = await mailFor('carol@example.com', 'Welcome');
    const verifyToken = welcome.html.match(/\/verify\/([\w.-]+)/)?.[1];
    record('confirmVerification', [mailView(welcome, true), await auth('confirm-verification', { token: verifyToken })]);

    // password reset: the subject altered, the default link confirms; a suspended account refused
    record('requestReset', [await auth('request-password-reset', { email: 'alice@example.com' }), await auth('request-password-reset', { email: 'bob@example.com' })]);
    const reset = await mailFor('alice@example.com', 'Reset for');
    record('confirmReset', [
      mailView(reset),
      await auth('confirm-password-reset', { token: linkToken(reset, 'confirm-password-reset'), password: NEW_PASSWORD, passwordConfirm: NEW_PASSWORD }),
      (await signIn('alice@example.com', NEW_PASSWORD)).status,
    ]);

    // email change: refused by the request hook, by the mail hook, then done
    const token = (await signIn('alice@example.com', NEW_PASSWORD)).body.token;
    const changeTo = (newEmail) => auth('request-email-change', { newEmail }, { token });
    record('requestEmailChange', [await changeTo('alice@competitor.test'), await changeTo('alice@bounce.test'), await changeTo('alice.new@example.com')]);
    const change = await mailFor('alice.new@example.com');
    record('confirmEmailChange', [
      mailView(change),
      await auth('confirm-email-change', { token: linkToken(change, 'confirm-email-change'), password: NEW_PASSWORD }),
      (await su.collection('users').getOne(users.Alice.id)).email,
    ]);

    // OTP: the code in the hook's own mail signs in; a suspended account and an unknown address
    const requestOtp = (email) => auth('request-otp', { email });
    const otp = await requestOtp('dave@example.com');
    const otpMail = await mailFor('dave@example.com', 'Your code is');
    const code = otpMail.subject.match(/\d+$/)[0];
    codes.push(code);
    const authOtp = await auth('auth-with-otp', { otpId: otp.body.otpId, password: code });
    record('otp', [otp, mailView(otpMail, true), authOtp.status, await requestOtp('bob@example.com'), await requestOtp('ghost@example.com')]);

    // $mails from a route: the same hooks alter them, a hook's error fails the route
    const remind = (body) => call('POST', `/api/app/remind/${users.Erin.id}`, body, { token: su.authStore.token });
    record('mails', [
      await remind({ kind: 'verify' }),
      await remind({ kind: 'reset' }),
      await remind({ kind: 'email', newEmail: 'erin.new@example.com' }),
      await remind({ kind: 'email', newEmail: 'erin@bounce.test' }),
      await remind({ kind: 'otp', otpId: 'customotp000001', pass: '424242' }),
      mailView(await mailFor('erin@example.com', 'Welcome')).subject,
      mailView(await mailFor('erin@example.com', 'Reset for')).subject,
      mailView(await mailFor('erin.new@example.com', 'Confirm')).subject,
      mailView(await mailFor('erin@example.com', 'Your code'), true),
    ]);

    // OAuth2: a sign-up without an invite is refused; with one, the hook names the record
    const oauth2 = async (createData) => {
      const methods = await call('GET', '/api/collections/users/auth-methods');
      const p = methods.body.oauth2.providers[0];
      const { code: oauthCode } = await oidc.authorize(p.authURL + encodeURIComponent(`${server.url}/api/oauth2-redirect`));
      const res = await auth('auth-with-oauth2', { provider: 'oidc', code: oauthCode, codeVerifier: p.codeVerifier, redirectURL: `${server.url}/api/oauth2-redirect`, createData });
      return { status: res.status, body: res.body.record ? { name: res.body.record.name, email: res.body.record.email, isNew: res.body.meta.isNew } : res.body };
    };
    record('oauth2', [await oauth2(), await oauth2({ invite: 'let-me-in' }), await oauth2()]);

    // realtime: a refused connection, a refused and a trimmed subscription, a dropped message
    const guest = await connect(server.url);
    sse.push(guest);
    if (!guest.events) throw new Error('guest connection refused: ' + JSON.stringify(guest));
    const blocked = await connect(server.url, { 'X-Block': 'yes' });
    const subscribe = (subscriptions) => call('POST', '/api/realtime', { clientId: guest.clientId, subscriptions });
    const subs = [await subscribe(['posts/*', 'hooklog/*']), await subscribe(['posts/*', 'secrets/*'])];
    await su.collection('secrets').create({ title: 'launch codes' });
    await su.collection('posts').create({ title: 'draft: not yet' });
    await su.collection('posts').create({ title: 'Live now' });
    await until(() => guest.events.some((ev) => ev.data.record?.title === 'Live now'), 'the realtime message');
    await sleep(200);
    record('realtime', [blocked, subs, guest.events.slice(1).map((ev) => [ev.name, ev.data.action, ev.data.record.title])]);
    guest.close();

    // every mail, sorted (after a synchronous one, the background ones have been sent)
    await sleep(300);
    await contact('fence@example.com', 'Fence');
    await mailFor('fence@example.com');
    record('allMails', smtp.messages.map((m) => `${[...m.to].sort().join(',')}: ${m.subject}`).sort());

    // onTerminate on stop, onBootstrap on the next start
    await server.stop({ keep: true });
    [first, server] = [server, null];
    const schema = first.env.KILN_DATABASE_SCHEMA; // the same PostgreSQL schema, if any
    server = await startServer({ bin, dir: first.dir, serveArgs: ['--hooksDir', hooks], env: schema ? { KILN_DATABASE_SCHEMA: schema } : {} });
    su.baseURL = server.url;
    await su.collection('_superusers').authWithPassword(SUPERUSER.email, SUPERUSER.password);
    record('hooklog', (await su.collection('hooklog').getFullList()).map((r) => `${r.kind}: ${r.msg}`).sort());
    return out;
  } catch (err) {
    if (server) console.error(`${server.logs()}\n--- traces so far ---\n${JSON.stringify(out)}`);
    throw err;
  } finally {
    for (const c of sse) c.close?.();
    await server?.stop();
    if (first) rmSync(first.root, { recursive: true, force: true });
    await oidc?.stop();
    await smtp.stop();
    rmSync(hooks, { recursive: true, force: true });
  }
}


/** What PocketBase 0.40.6 does with these files (and Kiln must too). */
function check(r) {
  assert.deepEqual(r.page.body, {
    html: '<html><body><h1>&lt;script&gt;x&lt;/script&gt;</h1><a href="#ZgotmplZ">&lt;Ann &amp; Bob&gt;</a><ul><li>1</li><li>2.5</li><li>three</li></ul><em>trusted</em></body></html>',
    inline: 'Hi &lt;you&gt;, 2 items', broken: 'error',
  });
  assert.deepEqual(r.docs.body, { one: 'hello_<rand>.txt', many: ['config_<rand>.json', 'empty_<rand>.json', 'list_<rand>.json'] });
  assert.deepEqual(r.collections, [
    { status: 400, body: { data: {}, message: 'No temporary collections.', status: 400 } },
    [200, '', null],
    [200, '', "id != ''"],
    { status: 403, body: { data: {}, message: 'Hidden.', status: 403 } },
    200,
    { status: 403, body: { data: {}, message: 'Keep it.', status: 403 } },
    { status: 204, body: null },
  ]);
  assert.deepEqual(r.apis, [
    { status: 200, body: { ok: true } },
    { status: 413, body: { data: {}, message: 'Request entity too large.', status: 413 } },
    [200, 'gzip', 2000],
    { status: 200, body: { quiet: true } },
  ]);
  const q = r.query.body;
  assert.deepEqual([q.unverifiedExample.length, q.all, q.named, q.either, q.notExample, q.orLike, q.escaped, q.between, q.none],
    [6, 7, 2, ['carol@example.com', 'dave@example.com'], ['dana@disposable.test'], 2, 0, 2, 0], JSON.stringify(q));
  assert.deepEqual([q.author, q.tags, q.plainAuthor], ['carol@example.com', ['blue', 'red'], 'Dave']);
  assert.deepEqual(Object.keys(q.noteJSON.expand).sort(), ['author', 'tags']);
  assert.deepEqual(r.utils, { status: 200, body: {
    greeting: 'Howdy, Ann!', slug: 'hello-kiln-world', config: { greeting: 'Howdy', separator: '-', invite: 'let-me-in' }, cached: true, hooks: '<hooks>', missing: 'missing',
  } });

  const statuses = (list) => list.map((x) => x.status);
  const spam = { data: { title: { code: 'no_spam', message: 'No spam, please.' } }, message: 'Spam is not welcome.', status: 400 };
  assert.deepEqual(statuses(r.validate.slice(0, 9)), [200, 400, 400, 400, 200, 200, 200, 400, 400]);
  assert.deepEqual([r.validate[1].body, r.validate[3].body, r.validate[7].body], [spam, spam, spam], 'on create, on update, uncaught in a route');
  assert.equal(r.validate[2].body.message, 'Failed to create record.', 'a plain Error thrown by the hook');
  assert.equal(r.validate[8].body.message, 'Something went wrong while processing your request.');
  assert.deepEqual(r.validate[6].body, { saved: false, message: 'Spam is not welcome.' });
  assert.deepEqual(r.validate[9], ['Hello again', 'Routed']);

  assert.deepEqual(r.contact.map((x) => x.body), [{ sent: true }, { sent: true }, { data: {}, message: 'This mail may not be sent.', status: 400 }]);
  assert.deepEqual(r.contactMail, {
    envelope: ['ann@example.com', 'archive@example.test', 'support@example.test'], from: 'Hooked Mailer <noreply@example.test>', to: 'Ann <ann@example.com>',
    cc: 'support@example.test', subject: '[Hooked App] Order update', hooked: 'yes', ticket: 'T-42', html: '<p>Your order shipped.</p>',
  });

  assert.deepEqual(statuses(r.password), [200, 400, 200, 403, 400, 200]);
  assert.equal(r.password[3].body.message, 'This account is suspended.');
  assert.deepEqual(r.password[5].body, { legacy: true });
  assert.deepEqual(statuses(r.refresh), [200, 403]);
  assert.deepEqual(r.alert, [200, {
    envelope: ['alice@example.com', 'security@example.test'], from: 'Hooked Mailer <noreply@example.test>', to: 'alice@example.com',
    cc: 'Security <security@example.test>', subject: '[Hooked App] New sign-in for Alice [info]', hooked: 'yes', ticket: null,
  }]);

  assert.deepEqual(r.requestVerification.map((x) => [x.status, x.body]), [[204, null], [204, null], [200, { disposable: true }], [204, null]]);
  assert.equal(r.confirmVerification[0].html, '<p>Hi Carol,</p><p><a href="https://app.example.test/verify/<jwt>">Confirm</a></p>');
  assert.equal(r.confirmVerification[1].status, 204);
  assert.deepEqual(r.requestReset.map((x) => [x.status, x.body?.message]), [[204, undefined], [400, 'Ask an admin to reset a suspended account.']]);
  assert.deepEqual([r.confirmReset[0].subject, r.confirmReset[1].status, r.confirmReset[2]], ['[Hooked App] Reset for alice@example.com [token]', 204, 200]);
  assert.deepEqual(r.requestEmailChange.map((x) => [x.status, x.body?.message]), [[400, 'Use your work address.'], [400, 'That mailbox bounces.'], [204, undefined]]);
  assert.deepEqual(r.requestEmailChange[0].body.data, { newEmail: { code: 'work_address', message: 'Use your work address.' } });
  assert.deepEqual([r.confirmEmailChange[0].subject, r.confirmEmailChange[1].status, r.confirmEmailChange[2]],
    ['[Hooked App] Confirm alice@example.com -> alice.new@example.com', 204, 'alice.new@example.com']);

  assert.deepEqual([r.otp[0].status, r.otp[2], r.otp[3].status, r.otp[4].status], [200, 200, 403, 200]);
  assert.deepEqual([r.otp[1].subject, r.otp[1].html], ['[Hooked App] Your code is <code>', '<p>Code <b><code></b> for dave@example.com</p>']);
  assert.deepEqual(r.mails.slice(0, 5).map((x) => [x.status, x.body.kind ?? x.body.message]), [[200, 'verify'], [200, 'reset'], [200, 'email'], [400, 'That mailbox bounces.'], [200, 'otp']]);
  assert.deepEqual(r.mails.slice(5, 8), ['[Hooked App] Welcome aboard, Erin', '[Hooked App] Reset for erin@example.com [token]', '[Hooked App] Confirm erin@example.com -> erin.new@example.com']);
  assert.equal(r.mails[8].html, '<p>Code <b>424242</b> for erin@example.com</p>');

  assert.deepEqual(r.oauth2, [
    { status: 403, body: { data: {}, message: 'Sign-ups need an invite.', status: 403 } },
    { status: 200, body: { name: 'Oidc User (invited)', email: 'oidcuser@example.com', isNew: true } },
    { status: 200, body: { name: 'Oidc User (invited)', email: 'oidcuser@example.com', isNew: false } },
  ]);

  assert.deepEqual(r.realtime, [
    { status: 403, body: { data: {}, message: 'No live updates for you.', status: 403 } },
    [{ status: 403, body: { data: {}, message: 'The hook log is private.', status: 403 } }, { status: 204, body: null }],
    [['posts/*', 'create', 'Live now']], // not the secret (unsubscribed by the hook), not the draft (dropped)
  ]);

  assert.deepEqual(r.allMails, [ // none to void@blackhole.test, quiet@, dana@, bob@, ghost@, *@bounce.test
    'alice.new@example.com: [Hooked App] Confirm alice@example.com -> alice.new@example.com',
    'alice@example.com,security@example.test: [Hooked App] New sign-in for Alice [info]',
    'alice@example.com: [Hooked App] Reset for alice@example.com [token]',
    'ann@example.com,archive@example.test,support@example.test: [Hooked App] Order update',
    'archive@example.test,fence@example.com,support@example.test: [Hooked App] Fence',
    'carol@example.com: [Hooked App] Welcome aboard, Carol',
    'dave@example.com: [Hooked App] Your code is <code>',
    'erin.new@example.com: [Hooked App] Confirm erin@example.com -> erin.new@example.com',
    'erin@example.com: [Hooked App] Reset for erin@example.com [token]',
    'erin@example.com: [Hooked App] Welcome aboard, Erin',
    'erin@example.com: [Hooked App] Your code is 424242',
  ]);
  assert.deepEqual(r.hooklog, [
    'bootstrap: Hooked App',
    'collection-created: gadgets []',
    'collection-deleted: gadgets',
    'confirm-email-change: alice@example.com > alice.new@example.com',
    'confirm-reset: alice@example.com',
    'confirm-verification: carol@example.com false>true',
    'connect: guest',
    'deleted: comments bye',
    'deleted: comments so long',
    'oauth2: oidc oidcuser@example.com new false oidcuser@example.com',
    'oauth2: oidc oidcuser@example.com new true -',
    'oauth2: oidc oidcuser@example.com new true -',
    'otp: dave@example.com verified false',
    'password-failed: alice@example.com Failed to authenticate.',
    'password-failed: ghost@example.com Failed to authenticate.',
    ...Array(3).fill('password: users alice@example.com - 14 alice@example.com'),
    ...Array(2).fill('password: users alice@example.com - 15 alice@example.com'),
    'password: users alice@example.com email 14 alice@example.com',
    ...Array(2).fill('password: users bob@example.com - 14 bob@example.com'),
    'password: users ghost@example.com - 14 -',
    'password: users legacy@example.com - 14 -',
    'refresh: users alice@example.com',
    'refresh: users bob@example.com',
    'request-email-change: alice@example.com > alice.new@example.com',
    'request-email-change: alice@example.com > alice@bounce.test',
    'request-email-change: alice@example.com > alice@competitor.test',
    'request-otp: - 8',
    'request-otp: bob@example.com 8',
    'request-otp: dave@example.com 8',
    'request-reset: alice@example.com',
    'request-reset: bob@example.com',
    'request-verification: carol@example.com',
    'request-verification: dana@disposable.test',
    'request-verification: quiet@example.com',
    'subscribe: posts/*',
    'terminate: restart false',
    'verified: alice@example.com true',
    'verified: carol@example.com true',
    'verified: oidcuser@example.com true',
  ]);
  assert.deepEqual(r.cascade, [{ status: 204, body: null }, { status: 400, body: { data: {}, message: 'This comment stays.', status: 400 } }, ['keep me']]);
}

describe('pb_hooks app hooks', () => {
  let theirs;
  it('PocketBase 0.40.6 leaves the traces this suite expects', { skip: !pocketbaseBin(), timeout: 120_000 }, async () => {
    theirs = await scenario(pocketbaseBin());
    check(theirs);
  });

  it('Kiln leaves the same traces', { skip: PB_ONLY, timeout: 120_000 }, async () => {
    const ours = await scenario();
    if (theirs) for (const key of Object.keys(theirs)) assert.deepEqual(ours[key], theirs[key], key);
    check(ours);
  });

  it('an onBootstrap hook that throws stops the start with its message', { skip: PB_ONLY && !pocketbaseBin(), timeout: 60_000 }, async () => {
    const hooks = writeHooks({ 'main.pb.js': BAD_BOOT });
    try {
      const bins = [...(pocketbaseBin() ? [pocketbaseBin()] : []), ...(PB_ONLY ? [] : [undefined])]; // undefined: Kiln
      for (const bin of bins) {
        let started;
        let err;
        try {
          started = await startServer({ bin, serveArgs: ['--hooksDir', hooks] });
        } catch (e) {
          err = e;
        }
        await started?.stop();
        const root = err?.message.match(/\((\S+)\/server\.stderr\.log\)/)?.[1]; // kept by startServer
        if (root) rmSync(root, { recursive: true, force: true });
        assert.match(String(err?.message), /exited early[^]*missing payment keys/, bin ?? 'kiln');
      }
    } finally {
      rmSync(hooks, { recursive: true, force: true });
    }
  });
});
