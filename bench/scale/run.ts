/**
 * bench/scale: many releases started at once (digits, fp32 on the ONNX Runtime CPU backend, to
 * packaged), on the real Temporal cluster (PostgreSQL, frontend/history/matching/worker as
 * separate processes) and on the dev server, in one run, with the same worker processes (two
 * control workers, `--engine-workers` CPU workers). Reports per stack: how many finished and how
 * long all took, the orchestration overhead per step from the histories (the gap between an
 * activity's end and the workflow's next command, p50/p99), activity queue latency (p50/p99; it
 * includes waiting for a free engine worker, which is most of it at this load), the most engine
 * jobs that ever ran at once against the slots the workers have, and the peak memory (VmHWM) of
 * the server processes and of the workers.
 *
 *   node --import tsx bench/scale/run.ts [--releases 100] [--stacks cluster,dev] [--engine-workers 2]
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, hostname, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { execa } from 'execa';
import { startRelease } from '../../cli/release/start-release.ts';
import { CONTROL_QUEUE } from '../../lib/task-queues.ts';
import type { ReleaseStatus } from '../../lib/release.ts';
import { fp32Only, git, makeModelRepo, tempDir } from '../../test/integration/harness.ts';
import { peakRss, WorkerProcesses } from '../../test/e2e/worker-processes.ts';
import { startDevServer } from '../../workers/dev-server.ts';
import { freePort } from '../../workers/prometheus.ts';
import { startTemporalCluster } from '../../workers/temporal-cluster/index.ts';
import { activityTimings, quantile, stepGaps } from '../lib/history-timings.ts';

const { values } = parseArgs({ options: { releases: { type: 'string' }, stacks: { type: 'string' }, 'engine-workers': { type: 'string' } } });
const N = Number(values.releases ?? 100);
const STACKS = (values.stacks ?? 'cluster,dev').split(',') as ('cluster' | 'dev')[];
const ENGINE_WORKERS = Number(values['engine-workers'] ?? 2);
const resultsDir = fileURLToPath(new URL('../results/', import.meta.url));
/** The activities that run on engine workers, one per slot. */
const ENGINE_ACTIVITIES = new Set(['buildEngine', 'checkParity', 'benchmarkEngine']);
const say = (line: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);

/** Process ids whose command line contains `pattern`. */
async function pidsMatching(pattern: string): Promise<number[]> {
  const r = await execa('pgrep', ['-f', '--', pattern], { reject: false });
  return r.stdout.split('\n').filter(Boolean).map(Number);
}

/** The most intervals [start, end) that overlap at one instant. */
function maxOverlap(intervals: { start: number; end: number }[]): number {
  const edges = intervals.flatMap((i) => [{ t: i.start, d: 1 }, { t: i.end, d: -1 }]).sort((a, b) => a.t - b.t || a.d - b.d);
  let now = 0;
  let most = 0;
  for (const e of edges) most = Math.max(most, (now += e.d));
  return most;
}

async function runStack(kind: 'cluster' | 'dev', repo: string, tags: string[]) {
  const home = await tempDir(`modelship-scale-${kind}-`);
  const logDir = join(home, 'logs');
  await mkdir(logDir, { recursive: true });
  let stopServer: () => Promise<void>;
  let address: string;
  let serverPattern: string;
  if (kind === 'cluster') {
    const cluster = await startTemporalCluster({ home: join(home, 'cluster'), basePort: 7433 });
    address = cluster.address;
    stopServer = () => cluster.stop();
    serverPattern = `server --config-file ${join(home, 'cluster')}`;
  } else {
    const server = await startDevServer({ home, port: await freePort(), uiPort: await freePort() });
    address = server.address;
    stopServer = () => server.stop();
    serverPattern = `--db-filename ${join(home, 'temporal.db')}`;
  }
  const workers = new WorkerProcesses({ address, home, logDir, env: { MODELSHIP_ADMIN_TOKEN: 'unused-no-rollout' } });
  const connection = await Connection.connect({ address });
  const client = new Client({ connection });
  try {
    workers.spawn('control-1', CONTROL_QUEUE);
    workers.spawn('control-2', CONTROL_QUEUE);
    for (let i = 1; i <= ENGINE_WORKERS; i++) workers.spawn(`engine-${i}`, 'cpu');
    say(`${kind}: ${address}; starting ${tags.length} releases at once`);
    const t0 = Date.now();
    const started = await Promise.all(tags.map((tag) => startRelease(client, { repo, tag, rollout: false })));
    const results = await Promise.allSettled(started.map((r) => r.handle.result() as Promise<ReleaseStatus>));
    const wallMs = Date.now() - t0;
    const packaged = results.filter((r) => r.status === 'fulfilled' && r.value.stage === 'packaged').length;
    say(`${kind}: ${packaged} of ${tags.length} packaged in ${(wallMs / 1000).toFixed(0)} s`);

    const gaps: number[] = [];
    const queue: number[] = [];
    const engineJobs: { start: number; end: number }[] = [];
    for (const r of started) {
      for (const id of [r.workflowId, `${r.workflowId}/target/cpu`]) {
        const events = (await client.workflow.getHandle(id).fetchHistory()).events ?? [];
        gaps.push(...stepGaps(events));
        const timings = activityTimings(events);
        queue.push(...timings.map((a) => a.queueMs));
        // Engine jobs (build, parity, bench) as they ran on the engine workers: started → completed.
        for (const a of timings) if (ENGINE_ACTIVITIES.has(a.name)) engineJobs.push({ start: a.startedAt, end: a.startedAt + a.runMs });
      }
    }
    const serverPids = await pidsMatching(serverPattern);
    const serverPeak = serverPids.map(peakRss);
    const report = {
      stack: kind === 'cluster' ? 'Temporal server v1.30.8 on PostgreSQL, 4 service processes' : 'temporal server start-dev (SQLite)',
      releases: tags.length,
      packaged,
      failed: results.length - packaged,
      wallSeconds: Math.round(wallMs / 1000),
      stepGapMs: { p50: quantile(gaps, 0.5), p99: quantile(gaps, 0.99), n: gaps.length },
      activityQueueMs: { p50: quantile(queue, 0.5), p99: quantile(queue, 0.99), n: queue.length },
      engineJobs: { mostAtOnce: maxOverlap(engineJobs), slots: ENGINE_WORKERS, n: engineJobs.length },
      peakMemoryMiB: {
        serverTotal: Math.round(serverPeak.reduce((a, b) => a + b, 0) / 2 ** 20),
        serverProcesses: serverPeak.map((b) => Math.round(b / 2 ** 20)),
        workers: Object.fromEntries(Object.entries(workers.peakMemory()).map(([id, b]) => [id, Math.round(b / 2 ** 20)])),
      },
    };
    say(`${kind}: step gap p50 ${report.stepGapMs.p50} ms p99 ${report.stepGapMs.p99} ms; queue p50 ${report.activityQueueMs.p50} ms p99 ${report.activityQueueMs.p99} ms; engine jobs at once ${report.engineJobs.mostAtOnce} (slots ${ENGINE_WORKERS}); server peak ${report.peakMemoryMiB.serverTotal} MiB`);
    return report;
  } finally {
    workers.killAll();
    await connection.close();
    await stopServer();
  }
}

const repo = await makeModelRepo(await tempDir('modelship-scale-repo-'), { tag: 'v1.0.0', editManifest: fp32Only });
const tags = Array.from({ length: N }, (_, i) => `v1.0.${i}`);
for (const tag of tags.slice(1)) await git(repo, 'tag', tag);
const stacks: Record<string, unknown> = {};
for (const kind of STACKS) stacks[kind] = await runStack(kind, repo, tags);
const report = {
  bench: 'scale',
  command: `node --import tsx bench/scale/run.ts --releases ${N} --stacks ${STACKS.join(',')} --engine-workers ${ENGINE_WORKERS}`,
  machine: { host: hostname(), cpu: cpus()[0]?.model, cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30) },
  model: 'digits, fp32, onnxruntime-cpu, to packaged (no rollout)',
  stacks,
};
await mkdir(resultsDir, { recursive: true });
const file = join(resultsDir, `scale-${new Date().toISOString().slice(0, 10)}.json`);
await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
say(`wrote ${file}`);
