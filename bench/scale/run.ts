/**
 * bench/scale: many releases started at once (digits, fp32 on the ONNX Runtime CPU backend, to
 * packaged), on the real Temporal cluster (PostgreSQL, frontend/history/matching/worker as
 * separate processes) and on the dev server, in one run, with the same worker processes: two
 * control workers and simulated GPU hosts — engine workers polling queues named like GPU
 * architectures with a GPU host's slot count ({@link SIM_GPU_HOSTS}: two 2-GPU sm90 hosts, one
 * 1-GPU sm89 host), the jobs themselves run by ONNX Runtime on this machine's CPU (there is no GPU
 * here; GPU routing and slots are what is measured). Half the releases target sm90, half sm89.
 * Reports per stack: how many finished and how long all took, the orchestration overhead per step
 * from the histories (the gap between an activity's end and the workflow's next command, p50/p99),
 * activity queue latency (p50/p99; it includes waiting for a free slot, which is most of it at this
 * load), the most engine jobs that ever ran at once on each host and on each queue against their
 * slots, and the peak memory (VmHWM) of the server processes and of the workers.
 *
 *   node --import tsx bench/scale/run.ts [--releases 100] [--stacks cluster,dev]
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
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

const { values } = parseArgs({ options: { releases: { type: 'string' }, stacks: { type: 'string' } } });
const N = Number(values.releases ?? 100);
const STACKS = (values.stacks ?? 'cluster,dev').split(',') as ('cluster' | 'dev')[];
/** The simulated GPU hosts: worker id, the architecture's queue, and its GPUs (engine slots). */
const SIM_GPU_HOSTS = [
  { id: 'sm90-a', queue: 'sim-gpu-sm90', slots: 2 },
  { id: 'sm90-b', queue: 'sim-gpu-sm90', slots: 2 },
  { id: 'sm89-a', queue: 'sim-gpu-sm89', slots: 1 },
] as const;
const SIM_QUEUES = [...new Set(SIM_GPU_HOSTS.map((h) => h.queue))];
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
    for (const host of SIM_GPU_HOSTS) workers.spawn(host.id, host.queue, {}, ['--slots', String(host.slots)]);
    say(`${kind}: ${address}; starting ${tags.length} releases at once`);
    const t0 = Date.now();
    const started = await Promise.all(tags.map((tag) => startRelease(client, { repo, tag, rollout: false })));
    const results = await Promise.allSettled(started.map((r) => r.handle.result() as Promise<ReleaseStatus>));
    const wallMs = Date.now() - t0;
    const packaged = results.filter((r) => r.status === 'fulfilled' && r.value.stage === 'packaged').length;
    say(`${kind}: ${packaged} of ${tags.length} packaged in ${(wallMs / 1000).toFixed(0)} s`);

    const gaps: number[] = [];
    const queue: number[] = [];
    /** Engine jobs (build, parity, bench) as they ran: started → completed, by the queue they ran on. */
    const engineJobs: { queue: string; start: number; end: number }[] = [];
    for (const r of started) {
      for (const id of [r.workflowId, `${r.workflowId}/target/cpu`]) {
        const events = (await client.workflow.getHandle(id).fetchHistory()).events ?? [];
        gaps.push(...stepGaps(events));
        const timings = activityTimings(events);
        queue.push(...timings.map((a) => a.queueMs));
        for (const a of timings) if (ENGINE_ACTIVITIES.has(a.name)) engineJobs.push({ queue: a.taskQueue, start: a.startedAt, end: a.startedAt + a.runMs });
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
      engineJobs: {
        // A target's engine steps run on its host's own queue, `<queue>@<worker id>`.
        hosts: SIM_GPU_HOSTS.map((h) => {
          const jobs = engineJobs.filter((j) => j.queue === `${h.queue}@${h.id}`);
          return { host: h.id, queue: h.queue, slots: h.slots, mostAtOnce: maxOverlap(jobs), n: jobs.length };
        }),
        queues: SIM_QUEUES.map((q) => {
          const jobs = engineJobs.filter((j) => j.queue.startsWith(`${q}@`));
          return { queue: q, slots: SIM_GPU_HOSTS.filter((h) => h.queue === q).reduce((a, h) => a + h.slots, 0), mostAtOnce: maxOverlap(jobs), n: jobs.length };
        }),
        elsewhere: engineJobs.filter((j) => !SIM_GPU_HOSTS.some((h) => j.queue === `${h.queue}@${h.id}`)).length,
      },
      peakMemoryMiB: {
        serverTotal: Math.round(serverPeak.reduce((a, b) => a + b, 0) / 2 ** 20),
        serverProcesses: serverPeak.map((b) => Math.round(b / 2 ** 20)),
        workers: Object.fromEntries(Object.entries(workers.peakMemory()).map(([id, b]) => [id, Math.round(b / 2 ** 20)])),
      },
    };
    say(`${kind}: step gap p50 ${report.stepGapMs.p50} ms p99 ${report.stepGapMs.p99} ms; queue p50 ${report.activityQueueMs.p50} ms p99 ${report.activityQueueMs.p99} ms; engine jobs at once per host ${report.engineJobs.hosts.map((h) => `${h.host} ${h.mostAtOnce}/${h.slots}`).join(', ')}; server peak ${report.peakMemoryMiB.serverTotal} MiB`);
    return report;
  } finally {
    workers.killAll();
    await connection.close();
    await stopServer();
  }
}

/** The digits manifest, fp32 only, its target's steps sent to the simulated GPU queue `queue`. */
const onSimGpu = (queue: string) => (yaml: string) => fp32Only(yaml).replace('    backend: onnxruntime-cpu\n', `    backend: onnxruntime-cpu\n    taskQueue: ${queue}\n`);
// Half the tags on a commit whose target goes to sm90, half on one whose target goes to sm89.
const repo = await makeModelRepo(await tempDir('modelship-scale-repo-'), { tag: 'v1.0.0', editManifest: onSimGpu(SIM_QUEUES[0]!) });
const tags = Array.from({ length: N }, (_, i) => `v1.0.${i}`);
const half = Math.ceil(N / 2);
for (const tag of tags.slice(1, half)) await git(repo, 'tag', tag);
const manifestFile = join(repo, 'modelship.yaml');
await writeFile(manifestFile, (await readFile(manifestFile, 'utf8')).replace(`taskQueue: ${SIM_QUEUES[0]}`, `taskQueue: ${SIM_QUEUES[1]}`));
await git(repo, 'commit', '-qam', `targets on ${SIM_QUEUES[1]}`);
for (const tag of tags.slice(half)) await git(repo, 'tag', tag);
const stacks: Record<string, unknown> = {};
for (const kind of STACKS) stacks[kind] = await runStack(kind, repo, tags);
const report = {
  bench: 'scale',
  command: `node --import tsx bench/scale/run.ts --releases ${N} --stacks ${STACKS.join(',')}`,
  machine: { host: hostname(), cpu: cpus()[0]?.model, cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30) },
  model: 'digits, fp32, onnxruntime-cpu, to packaged (no rollout)',
  simulatedGpuHosts: SIM_GPU_HOSTS,
  stacks,
};
await mkdir(resultsDir, { recursive: true });
const file = join(resultsDir, `scale-${new Date().toISOString().slice(0, 10)}.json`);
await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
say(`wrote ${file}`);
