/**
 * The release on a real Temporal cluster (issue 14): PostgreSQL, the server's frontend, history,
 * matching and worker services as separate processes, two control workers and two engine workers
 * of the `cpu` queue as separate processes — and faults while releases run:
 *
 * 1. v1.0.0: kill -9 one control worker and the engine worker running parity, mid-step; the
 *    killed engine host never comes back, so its work moves to the other one;
 * 2. v1.1.0: restart the history service mid-bake, and PostgreSQL mid-canary;
 * 3. Worker Versioning: the control workers are upgraded (build v1 → v2) while v1.2.0's rollout
 *    waits for approval; v1.2.0 finishes on v1, a release started after the upgrade runs on v2.
 *
 * Every release must finish, and no side effect may happen twice: one decision record per
 * sequence number, one approval per step, one promotion, the runtime serving what the records say.
 */
import { mkdirSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { execa } from 'execa';
import { Client, Connection } from '@temporalio/client';
import { RuntimeAdminClient } from '../../activities/runtime/admin-client.ts';
import { startTraffic } from '../../cli/demo/traffic.ts';
import { startRelease } from '../../cli/release/start-release.ts';
import { CONTROL_QUEUE } from '../../lib/task-queues.ts';
import { statusQuery, type ReleaseStatus } from '../../lib/release.ts';
import { rolloutWorkflowId, type DecisionRecord } from '../../lib/rollout.ts';
import { freePort, startPrometheus, type RunningPrometheus } from '../../workers/prometheus.ts';
import { startServingRuntime, type ServingRuntime } from '../../workers/serving-runtime.ts';
import { startTemporalCluster, type TemporalCluster } from '../../workers/temporal-cluster/index.ts';
import { findTemporalBinary } from '../../workers/temporal-binary.ts';
import { tempDir } from '../integration/harness.ts';
import { approveAll, explain, tagDigits, waitRollout } from './rollout-driver.ts';
import { WorkerProcesses } from './worker-processes.ts';

let cluster: TemporalCluster;
let client: Client;
let connection: Connection;
let home: string;
let repo: string;
let runtime: ServingRuntime;
let prometheus: RunningPrometheus;
let admin: RuntimeAdminClient;
let traffic: Awaited<ReturnType<typeof startTraffic>> | undefined;
let workers: WorkerProcesses;

async function waitStatus(workflowId: string, until: (s: ReleaseStatus) => boolean, timeoutMs = 300_000): Promise<ReleaseStatus> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await client.workflow.getHandle(workflowId).query(statusQuery).catch(() => undefined);
    if (s && until(s)) return s;
    if (Date.now() > deadline) throw new Error(`${workflowId} never reached the state: ${JSON.stringify(s?.steps)}`);
    await sleep(250);
  }
}

/** What the histories of a release and its children say happened: activities scheduled by type, attempts after the first, timeouts. */
async function historyCounts(workflowIds: string[]) {
  const scheduled: Record<string, number> = {};
  let retried = 0;
  let timedOut = 0;
  for (const id of workflowIds) {
    const history = await client.workflow.getHandle(id).fetchHistory();
    for (const e of history.events ?? []) {
      const type = e.activityTaskScheduledEventAttributes?.activityType?.name;
      if (type) scheduled[type] = (scheduled[type] ?? 0) + 1;
      if ((e.activityTaskStartedEventAttributes?.attempt ?? 1) > 1) retried++;
      if (e.activityTaskTimedOutEventAttributes) timedOut++;
    }
  }
  return { scheduled, retried, timedOut };
}

/** Makes `buildId` the control workers' current version (retried until its workers have polled). */
async function setCurrentVersion(buildId: string): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const r = await execa(findTemporalBinary(), ['worker', 'deployment', 'set-current-version', '--deployment-name', 'modelship', '--build-id', buildId, '--yes', '--address', cluster.address], { reject: false });
    if (r.exitCode === 0) return;
    if (Date.now() > deadline) throw new Error(`set-current-version ${buildId}: ${r.stderr}`);
    await sleep(1000);
  }
}

/** The build a workflow is pinned to, as the server describes it. */
async function pinnedBuild(workflowId: string): Promise<string | undefined> {
  const info = (await client.workflow.getHandle(workflowId).describe()).raw.workflowExecutionInfo?.versioningInfo;
  return info?.deploymentVersion?.buildId ?? info?.version?.split('.').at(-1) ?? undefined;
}

/** The decision records the rollout wrote beside the package, checked for duplicates. */
async function decisionFiles(tag: string): Promise<DecisionRecord[]> {
  const dir = join(home, 'artifacts', 'packages', 'digits', tag, 'decisions');
  const files = (await readdir(dir)).filter((f) => f.endsWith('.json')).sort();
  return Promise.all(files.map(async (f) => JSON.parse(await readFile(join(dir, f), 'utf8')) as DecisionRecord));
}

function expectNoDuplicates(records: DecisionRecord[]): void {
  const seqs = records.map((r) => r.seq);
  expect(new Set(seqs).size).toBe(seqs.length);
  expect(seqs).toEqual(seqs.map((_, i) => i + 1));
  const approvals = records.filter((r) => r.kind === 'approval').map((r) => r.step);
  expect(new Set(approvals).size).toBe(approvals.length);
  expect(records.filter((r) => r.kind === 'promotion')).toHaveLength(1);
}

beforeAll(async () => {
  home = await tempDir('modelship-cluster-');
  mkdirSync(join(home, 'logs'), { recursive: true });
  cluster = await startTemporalCluster({ home: join(home, 'cluster'), basePort: 7433 });
  console.log(`cluster: ${cluster.address} on PostgreSQL :${cluster.postgres.port} (server install ${cluster.installSeconds.toFixed(0)} s)`);
  connection = await Connection.connect({ address: cluster.address });
  client = new Client({ connection, namespace: cluster.namespace });
  runtime = await startServingRuntime({ home, port: await freePort() });
  prometheus = await startPrometheus({ targets: [new URL(runtime.url).host], dataDir: join(home, 'prometheus'), scrapeInterval: '1s' });
  admin = new RuntimeAdminClient({ url: runtime.url, token: (await readFile(runtime.tokenFile, 'utf8')).trim() });
  workers = new WorkerProcesses({
    address: cluster.address,
    home,
    logDir: join(home, 'logs'),
    env: { MODELSHIP_RUNTIME_URL: runtime.url, MODELSHIP_ADMIN_TOKEN_FILE: runtime.tokenFile, MODELSHIP_PROMETHEUS_URL: prometheus.url },
  });
  workers.spawn('control-a', CONTROL_QUEUE);
  workers.spawn('control-b', CONTROL_QUEUE);
  workers.spawn('engine-a', 'cpu');
  workers.spawn('engine-b', 'cpu');
  repo = join(await tempDir(), 'digits');
}, 1_800_000);

afterAll(async () => {
  await traffic?.stop();
  workers?.killAll();
  await connection?.close();
  await prometheus?.stop();
  await runtime?.stop();
  await cluster?.stop();
});

it('finishes a first release after a control worker and the engine worker running parity are killed mid-step', async () => {
  await tagDigits(repo, 'v1.0.0');
  const r = await startRelease(client, { repo, tag: 'v1.0.0' });
  const during = await waitStatus(r.workflowId, (s) => s.steps.some((x) => x.step === 'parity' && x.state === 'running'));
  const builtOn = during.steps.find((x) => x.step === 'build' && x.state === 'done')?.summary?.match(/ on (engine-[ab])/)?.[1];
  expect(builtOn).toBeDefined();
  workers.kill9('control-a');
  workers.kill9(builtOn!);
  const status = await approveAll(client, r.workflowId, 'alice');
  expect(status.stage, explain(status)).toBe('promoted');
  const parity = status.steps.find((x) => x.step === 'parity');
  expect(parity).toMatchObject({ state: 'done', verdict: 'pass' });
  const survivor = builtOn === 'engine-a' ? 'engine-b' : 'engine-a';
  expect(status.steps.find((x) => x.step === 'build')?.summary).toContain(`on ${survivor}`);
  expectNoDuplicates(await decisionFiles('v1.0.0'));
  expect((await admin.state('digits')).variants.stable?.version).toBe('v1.0.0');
  const counts = await historyCounts([r.workflowId, `${r.workflowId}/target/cpu`, rolloutWorkflowId(r.workflowId)]);
  // The killed host's parity timed out waiting for it; the target claimed the other worker once more and built there.
  expect(counts.scheduled.claimWorker).toBe(2);
  expect(counts.timedOut).toBeGreaterThanOrEqual(1);
  expect(counts.scheduled.packageRelease).toBe(1);
  expect(counts.scheduled.promoteCandidate ?? 0).toBeLessThanOrEqual(1);
  console.log(`v1.0.0: promoted after killing control-a and ${builtOn} mid-parity: ${JSON.stringify(counts)}`);
}, 1_200_000);

it('finishes a canary release across a history-service restart mid-bake and a PostgreSQL restart', async () => {
  workers.spawn('control-a', CONTROL_QUEUE);
  traffic = await startTraffic({ url: runtime.url, model: 'digits', data: join(repo, 'data', 'heldout.npz'), rate: 60, log: join(home, 'logs', 'traffic.log') });
  await tagDigits(repo, 'v1.1.0', { trainArgs: ['--seed', '7'] });
  const r = await startRelease(client, { repo, tag: 'v1.1.0' });
  const approving = approveAll(client, r.workflowId, 'bob');
  await waitRollout(client, r.workflowId, (s) => s.phase === 'shadow', 600_000);
  await cluster.kill('history');
  await sleep(3000);
  await cluster.start('history');
  await waitRollout(client, r.workflowId, (s) => s.phase === 'canary' && s.weights.candidate === 50, 600_000);
  await cluster.postgres.restart();
  const status = await approving;
  expect(status.stage, explain(status)).toBe('promoted');
  const records = await decisionFiles('v1.1.0');
  expectNoDuplicates(records);
  expect(records.filter((d) => d.kind === 'approval').map((d) => d.step)).toEqual([1, 2]);
  expect((await admin.state('digits')).variants.stable?.version).toBe('v1.1.0');
  const counts = await historyCounts([r.workflowId, `${r.workflowId}/target/cpu`, rolloutWorkflowId(r.workflowId)]);
  expect(counts.scheduled.claimWorker).toBe(1);
  expect(counts.scheduled.packageRelease).toBe(1);
  expect(counts.scheduled.promoteCandidate).toBe(1);
  console.log(`v1.1.0: promoted across a history restart mid-shadow and a PostgreSQL restart mid-canary; ${records.length} decision records: ${JSON.stringify(counts)}`);
}, 1_200_000);

it('keeps an in-flight rollout on the control build that started it while releases after the upgrade run on the new one', async () => {
  workers.kill9('control-a');
  workers.kill9('control-b');
  workers.spawn('control-v1', CONTROL_QUEUE, { MODELSHIP_BUILD_ID: 'v1' });
  await setCurrentVersion('v1');
  await tagDigits(repo, 'v1.2.0', { trainArgs: ['--seed', '11'] });
  const inFlight = await startRelease(client, { repo, tag: 'v1.2.0' });
  await waitRollout(client, inFlight.workflowId, (s) => s.awaiting?.step === 1, 600_000);

  // The upgrade, while v1.2.0 waits for a person: new control workers, then they become current.
  workers.spawn('control-v2', CONTROL_QUEUE, { MODELSHIP_BUILD_ID: 'v2' });
  await setCurrentVersion('v2');
  await tagDigits(repo, 'v1.3.0', { trainArgs: ['--seed', '13'] });
  const after = await startRelease(client, { repo, tag: 'v1.3.0', rollout: false });
  expect((await after.handle.result()).stage).toBe('packaged');

  const status = await approveAll(client, inFlight.workflowId, 'alice');
  expect(status.stage, explain(status)).toBe('promoted');
  expect(await pinnedBuild(inFlight.workflowId)).toBe('v1');
  expect(await pinnedBuild(rolloutWorkflowId(inFlight.workflowId))).toBe('v1');
  expect(await pinnedBuild(after.workflowId)).toBe('v2');
  expectNoDuplicates(await decisionFiles('v1.2.0'));
  console.log('v1.2.0 started on build v1 and finished there after the upgrade to v2; v1.3.0, started after it, ran on v2');
}, 1_200_000);
