// Builds the dashboard into ../dist (or --out DIR): the bundle under content-hashed names, each
// built file with its gzip and brotli forms, index.html, and assets.rs, the table the kiln-dashboard
// crate embeds. The output depends only on the sources (no timestamps), so scripts/test can rebuild
// into a temporary folder and compare.
//
//   node build.mjs                 build into ../dist
//   node build.mjs --out DIR       build into DIR
//   node build.mjs --watch         rebuild on change (serve with `kiln serve --dashboardDir ../dist`)
//   node build.mjs --check         rebuild into a temporary folder and fail unless ../dist holds the
//                                  same files (the compressed forms must decompress to the same bytes:
//                                  zlib builds may compress differently)
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { brotliCompressSync, brotliDecompressSync, constants, gunzipSync, gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const outArg = args.indexOf('--out');
const dist = join(here, '..', 'dist');
const check = args.includes('--check');
const out = check ? join(tmpdir(), `kiln-dashboard-check-${process.pid}`) : outArg >= 0 ? args[outArg + 1] : dist;
const watch = args.includes('--watch');

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
};

const options = {
  entryPoints: { app: join(here, 'src/main.jsx') },
  bundle: true,
  minify: true,
  format: 'esm',
  // languages other than English are chunks of their own, fetched when chosen
  splitting: true,
  chunkNames: 'assets/[name]-[hash]',
  target: ['es2022', 'chrome110', 'firefox115', 'safari16'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  entryNames: 'assets/[name]-[hash]',
  assetNames: 'assets/[name]-[hash]',
  loader: { '.svg': 'text' },
  legalComments: 'none',
  charset: 'utf8',
  metafile: true,
  write: false,
  logLevel: 'warning',
};

// The API's documentation at /api/docs (Swagger UI), a bundle of its own: nothing shared with the
// dashboard's.
const docsOptions = { ...options, entryPoints: { apidocs: join(here, 'src/apidocs.js') }, splitting: false };
const docsBuild = () => esbuild.build({ ...docsOptions, outdir: out });

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

function emit(result) {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(join(out, 'assets'), { recursive: true });
  const built = new Map(); // path under /_/ -> bytes
  for (const f of result.outputFiles) built.set(relative(out, f.path).replaceAll('\\', '/'), Buffer.from(f.contents));
  const entry = (name, ext) => [...built.keys()].find((p) => new RegExp(`^assets/${name}-[^/]+\\.${ext}$`).test(p));
  const [js, css] = [entry('app', 'js'), entry('app', 'css')];
  for (const f of files(join(here, 'public'))) built.set(relative(join(here, 'public'), f), readFileSync(f));
  const index = readFileSync(join(here, 'src/index.html'), 'utf8')
    .replace('%CSS%', css)
    .replace('%JS%', js);
  built.set('index.html', Buffer.from(index));
  const docs = readFileSync(join(here, 'src/apidocs.html'), 'utf8')
    .replace('%CSS%', entry('apidocs', 'css'))
    .replace('%JS%', entry('apidocs', 'js'));
  built.set('apidocs.html', Buffer.from(docs));

  const rows = [];
  for (const [path, body] of [...built].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const ext = path.slice(path.lastIndexOf('.'));
    const type = TYPES[ext];
    if (!type) throw new Error(`no content type for ${path}`);
    mkdirSync(dirname(join(out, path)), { recursive: true });
    writeFileSync(join(out, path), body);
    writeFileSync(join(out, path + '.gz'), gzipSync(body, { level: 9 }));
    writeFileSync(
      join(out, path + '.br'),
      brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: body.length } }),
    );
    const etag = createHash('sha256').update(body).digest('base64url').slice(0, 22);
    const immutable = path.startsWith('assets/');
    rows.push(
      `    Asset { path: ${JSON.stringify(path)}, content_type: ${JSON.stringify(type)}, etag: "\\"${etag}\\"", immutable: ${immutable}, ` +
        `body: include_bytes!(${JSON.stringify(path)}), gzip: include_bytes!(${JSON.stringify(path + '.gz')}), brotli: include_bytes!(${JSON.stringify(path + '.br')}) },`,
    );
  }
  writeFileSync(
    join(out, 'assets.rs'),
    `// Written by ui/build.mjs: do not edit.\nstatic ASSETS: &[Asset] = &[\n${rows.join('\n')}\n];\n`,
  );
  const sizes = [...built].map(([p, b]) => `${p} ${b.length} B, gzip ${gzipSync(b, { level: 9 }).length} B`);
  if (!check) console.log(`dashboard built into ${out}:\n  ${sizes.join('\n  ')}`);
}

/** The differences between the fresh build in `out` and the checked-in `dist`. */
function compare() {
  const rel = (root) => new Set(files(root).map((f) => relative(root, f)));
  const fresh = rel(out);
  const kept = rel(dist);
  const problems = [];
  for (const f of fresh) if (!kept.has(f)) problems.push(`missing from dist/: ${f}`);
  for (const f of kept) if (!fresh.has(f)) problems.push(`in dist/ but not built from the sources: ${f}`);
  for (const f of fresh) {
    if (!kept.has(f)) continue;
    const a = readFileSync(join(out, f));
    const b = readFileSync(join(dist, f));
    if (f.endsWith('.gz') || f.endsWith('.br')) {
      const unpack = f.endsWith('.gz') ? gunzipSync : brotliDecompressSync;
      const body = readFileSync(join(dist, f.slice(0, -3)));
      let ok = false;
      try {
        ok = unpack(b).equals(body);
      } catch {}
      if (!ok) problems.push(`dist/${f} does not decompress to dist/${f.slice(0, -3)}`);
    } else if (!a.equals(b)) problems.push(`differs from a rebuild: dist/${f}`);
  }
  return problems;
}

if (watch) {
  const docs = await docsBuild();
  const ctx = await esbuild.context({
    ...options,
    outdir: out,
    plugins: [{ name: 'emit', setup: (b) => b.onEnd((r) => r.errors.length || emit({ outputFiles: [...r.outputFiles, ...docs.outputFiles] })) }],
  });
  await ctx.watch();
  console.log('watching src/ …');
} else {
  const [app, docs] = await Promise.all([esbuild.build({ ...options, outdir: out }), docsBuild()]);
  emit({ outputFiles: [...app.outputFiles, ...docs.outputFiles] });
  if (check) {
    const problems = compare();
    rmSync(out, { recursive: true, force: true });
    if (problems.length) {
      console.error(`crates/kiln-dashboard/dist does not match its sources:\n  ${problems.join('\n  ')}\nRun \`npm run build\` in crates/kiln-dashboard/ui and commit dist/.`);
      process.exit(1);
    }
    console.log('crates/kiln-dashboard/dist matches its sources');
  }
}
