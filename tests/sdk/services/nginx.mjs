// nginx on a loopback port in front of several Kiln nodes (the Debian package's binary).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../server.mjs';

const BIN = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => existsSync(p));

/** Whether nginx is installed. */
export const haveNginx = () => Boolean(BIN);

/**
 * Starts nginx balancing over `upstreams` (URLs like http://127.0.0.1:1234). A node that refuses
 * connections is skipped for 2 s; requests that never reached it go to the next one. Streams
 * (SSE, WebSocket) pass unbuffered. Returns { url, stop() }.
 *
 * Options (off by default): `hash`, an nginx variable such as `$arg_affinity`: requests carrying it
 * always go to the same node (consistent hashing; while that node is down, to the same other one),
 * requests without it are balanced as usual (for clients that need one node, as a realtime stream
 * and its subscription requests do). `showUpstream`: every answer says which node served it
 * (header `X-Upstream-Addr`, nginx's `$upstream_addr`: "a, b" when it moved on from a to b).
 */
export async function startNginx(upstreams, { hash, showUpstream = false } = {}) {
  const root = mkdtempSync(join(tmpdir(), 'kiln-nginx-'));
  const port = await freePort();
  const servers = upstreams.map((u) => `    server ${new URL(u).host} max_fails=1 fail_timeout=2s;`).join('\n');
  writeFileSync(join(root, 'nginx.conf'), `
daemon off;
master_process off;
worker_processes 1;
pid ${root}/nginx.pid;
error_log ${root}/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${root}/body;
  proxy_temp_path ${root}/proxy;
  fastcgi_temp_path ${root}/fastcgi;
  uwsgi_temp_path ${root}/uwsgi;
  scgi_temp_path ${root}/scgi;
  client_max_body_size 64m;
  upstream kiln {
${servers}${hash ? `\n    hash ${hash} consistent;` : ''}
    keepalive 16;
  }
  map $http_upgrade $connection_upgrade { default upgrade; '' ''; }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://kiln;
      proxy_http_version 1.1;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header X-Forwarded-For $remote_addr;
      proxy_buffering off;
      proxy_read_timeout 600s;
      proxy_next_upstream error timeout http_502;
      proxy_connect_timeout 2s;${showUpstream ? "\n      add_header X-Upstream-Addr $upstream_addr always;" : ''}
    }
  }
}
`);
  const child = spawn(BIN, ['-c', join(root, 'nginx.conf'), '-p', root], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nginx exited: ${stderr}`);
    try {
      await fetch(`${url}/api/health`, { signal: AbortSignal.timeout(1_000) });
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`nginx did not start: ${stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const errors = () => (existsSync(join(root, 'error.log')) ? readFileSync(join(root, 'error.log'), 'utf8') : '');
  return {
    url,
    errors,
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((r) => child.on('exit', r));
      }
      rmSync(root, { recursive: true, force: true });
    },
  };
}
