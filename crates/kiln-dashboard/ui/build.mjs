// Builds the dashboard into ../dist (or --out DIR): the bundle under content-hashed names, each
// built file with its gzip and brotli forms, index.html, and assets.rs, the table the kiln-dashboard
// crate embeds. The output depends only on the sources (no timestamps), so scripts/test can rebuild
// into a temporary folder and compare.
//
//   node build.mjs                 build into ../dist
//   node build.mjs --out DIR       build into DIR
//   node build.mjs --watch         rebuild on change (serve with `kiln serve --dashboardDir ../dist`)
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const outArg = args.indexOf('--out');
const out = outArg >= 0 ? args[outArg + 1] : join(here, '..', 'dist');
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
  const js = [...built.keys()].find((p) => p.endsWith('.js'));
  const css = [...built.keys()].find((p) => p.endsWith('.css'));
  for (const f of files(join(here, 'public'))) built.set(relative(join(here, 'public'), f), readFileSync(f));
  const index = readFileSync(join(here, 'src/index.html'), 'utf8')
    .replace('%CSS%', css)
    .replace('%JS%', js);
  built.set('index.html', Buffer.from(index));

  const rows = [];
  for (const [path, body] of [...built].sort(([a], [b]) => a.localeCompare(b))) {
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
  console.log(`dashboard built into ${out}:\n  ${sizes.join('\n  ')}`);
}

if (watch) {
  const ctx = await esbuild.context({
    ...options,
    outdir: out,
    plugins: [{ name: 'emit', setup: (b) => b.onEnd((r) => r.errors.length || emit(r)) }],
  });
  await ctx.watch();
  console.log('watching src/ …');
} else {
  emit(await esbuild.build({ ...options, outdir: out }));
}
