// The job queue on three nodes sharing one PostgreSQL database: every node's worker takes jobs
// (FOR UPDATE SKIP LOCKED: never the same one), and a node killed with SIGKILL while it runs jobs
// loses none: their leases expire (30 s) and the other nodes run them. Every job ends done; a job
// runs twice only if its first run was on the killed node (at least once), and is marked done once.
// PostgreSQL runs only (KILN_TEST_DATABASE_URL, as scripts/test sets it).
import { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from './server.mjs';
import { newSuperuser, suite } from './helpers.mjs';

const PG = process.env.KILN_TEST_DATABASE_URL;
const { it, failed } = suite(150_000);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// each run leaves a trace when it starts and when it ends, with the node it ran on
const HOOKS = `
jobAdd("slow", (e) => {
  const c = $app.findCollectionByNameOrId("traces");
  const trace = (phase) => {
    const r = new Record(c);
    r.set("job", e.job.id);
    r.set("node", $os.getenv("NODE_NAME"));
    r.set("phase", phase);
    $app.save(r);
  };
  trace("start");
  sleep(800);
  trace("done");
});
`;

describe('job queue on a 3-node PostgreSQL cluster', { skip: !PG && 'needs KILN_TEST_DATABASE_URL (PostgreSQL)' }, () => {
  const nodes = [];
  let hooksDir;

  before(async () => {
    hooksDir = mkdtempSync(join(tmpdir(), 'kiln-jobs-cluster-'));
    writeFileSync(join(hooksDir, 'jobs.pb.js'), HOOKS);
    const schema = `kiln_jobs_cluster_${process.pid}`;
    for (let i = 0; i < 3; i++) {
      nodes.push(await startServer({ serveArgs: ['--hooksDir', hooksDir], env: { KILN_DATABASE_URL: PG, KILN_DATABASE_SCHEMA: schema, NODE_NAME: `node${i}` } }));
    }
  });

  after(async () => {
    if (failed()) for (const n of nodes) console.error(n.logs());
    for (const n of nodes) await n.stop({ keep: failed() }).catch(() => {});
    rmSync(hooksDir, { recursive: true, force: true });
  });

  it('a node killed mid-job loses no job: every job ends done, each marked done once', async () => {
    const su = await newSuperuser(nodes[0].url);
    await su.collections.create({ name: 'traces', type: 'base', fields: [{ name: 'job', type: 'text' }, { name: 'node', type: 'text' }, { name: 'phase', type: 'text' }] });
    const JOBS = 30;
    const ids = [];
    for (let i = 0; i < JOBS; i++) {
      ids.push((await su.send('/api/jobs', { method: 'POST', body: { name: 'slow', payload: { i }, backoff: 0 } })).id);
    }
    // kill node2 once it is in the middle of a job
    const victim = 'node2';
    for (let tries = 0; ; tries++) {
      const traces = await su.collection('traces').getFullList({ filter: `node = "${victim}"` });
      const started = traces.filter((t) => t.phase === 'start').map((t) => t.job);
      const ended = new Set(traces.filter((t) => t.phase === 'done').map((t) => t.job));
      if (started.some((j) => !ended.has(j))) break;
      assert.ok(tries < 400, `${victim} never ran a job`);
      await sleep(25);
    }
    nodes[2].kill();
    const killedAt = Date.now();

    // the survivors finish everything, the killed node's jobs once their leases expire
    const deadline = Date.now() + 90_000;
    let jobs;
    for (;;) {
      jobs = await Promise.all(ids.map((id) => su.send(`/api/jobs/${id}`, {})));
      if (jobs.every((j) => j.status === 'done')) break;
      assert.ok(Date.now() < deadline, `not all done: ${JSON.stringify(jobs.filter((j) => j.status !== 'done'))}`);
      await sleep(250);
    }
    const traces = await su.collection('traces').getFullList({ sort: 'job' });
    const byJob = new Map(ids.map((id) => [id, traces.filter((t) => t.job === id)]));
    let rerun = 0;
    for (const [id, ts] of byJob) {
      const ends = ts.filter((t) => t.phase === 'done');
      assert.ok(ends.length >= 1, `job ${id} never completed a run`);
      const onVictim = ts.some((t) => t.node === victim);
      const survivorEnds = ends.filter((t) => t.node !== victim).length;
      if (!onVictim) assert.equal(ends.length, 1, `job ${id} ran twice though node2 never touched it`);
      if (onVictim && ts.some((t) => t.node !== victim)) {
        rerun += 1;
        assert.equal(survivorEnds, 1, `job ${id}: taken over once`);
        assert.ok(jobs.find((j) => j.id === id).attempts >= 2);
      }
    }
    assert.ok(rerun >= 1, 'a job of the killed node was run again by another node');
    assert.ok(Date.now() - killedAt >= 25_000, 'the killed node held its jobs until their leases expired');
    const nodesUsed = new Set(traces.map((t) => t.node));
    assert.deepEqual([...nodesUsed].sort(), ['node0', 'node1', 'node2'], 'every node took jobs');
  });
});
