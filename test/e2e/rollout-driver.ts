/**
 * The e2e tests' rollout stack, and driving rollouts as a person would: wait for a state, approve
 * every step as it comes.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import type { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { freePort, startPrometheus, type RunningPrometheus } from '../../workers/prometheus.ts';
import { RuntimeAdminClient } from '../../activities/runtime/admin-client.ts';
import { startServingRuntime, type ServingRuntime } from '../../workers/serving-runtime.ts';
import { trainAndTag } from '../../cli/demo/prepare-repo.ts';
import { startTraffic } from '../../cli/demo/traffic.ts';
import { startRelease } from '../../cli/release/start-release.ts';
import { startTemporal, startWorkers, tempDir, type TemporalOptions } from '../integration/harness.ts';
import { approveUpdate, rolloutStatusQuery, rolloutWorkflowId, type RolloutStatus } from '../../lib/rollout.ts';
import type { ReleaseStatus } from '../../lib/release.ts';

/** Waits until the release's rollout status satisfies `until`, returning it. */
export async function waitRollout(client: Client, workflowId: string, until: (s: RolloutStatus) => boolean, timeoutMs = 240_000): Promise<RolloutStatus> {
  const handle = client.workflow.getHandle(rolloutWorkflowId(workflowId));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await handle.query(rolloutStatusQuery).catch(() => undefined);
    if (s && until(s)) return s;
    if (Date.now() > deadline) throw new Error(`rollout of ${workflowId} never reached the state: ${JSON.stringify(s)}`);
    await sleep(250);
  }
}

/** Why a release ended as it did, for an assertion's message: its failure, or each decision record with its summary. */
export function explain(status: ReleaseStatus): string {
  if (status.failure) return JSON.stringify(status.failure);
  return (status.rollout?.decisions ?? []).map((d) => `${d.seq} ${d.kind}:${d.verdict} ${(d.detail as { summary?: string } | undefined)?.summary ?? d.reason ?? ''}`).join('\n');
}

/** Approves every step of the release's rollout as it comes, as `by`, until the release ends. */
export async function approveAll(client: Client, workflowId: string, by: string): Promise<ReleaseStatus> {
  const release = client.workflow.getHandle(workflowId);
  const result = release.result() as Promise<ReleaseStatus>;
  let done = false;
  void result.finally(() => (done = true));
  const approved = new Set<number>();
  while (!done) {
    const s = await client.workflow.getHandle(rolloutWorkflowId(workflowId)).query(rolloutStatusQuery).catch(() => undefined);
    if (s?.awaiting && !approved.has(s.awaiting.step)) {
      approved.add(s.awaiting.step);
      await client.workflow.getHandle(rolloutWorkflowId(workflowId)).executeUpdate(approveUpdate, { args: [{ by, step: s.awaiting.step }] });
    }
    await sleep(250);
  }
  return result;
}

/** The rollout's real surroundings: Temporal, the serving runtime (any model), Prometheus, workers. */
export interface RolloutStack {
  env: TestWorkflowEnvironment;
  home: string;
  runtime: ServingRuntime;
  prometheus: RunningPrometheus;
  admin: RuntimeAdminClient;
  workers: Awaited<ReturnType<typeof startWorkers>>;
  /** Stops everything, in order. */
  stop: () => Promise<void>;
}

/** Starts the dev server (with its Web UI on `uiPort`, and any dynamic configuration), the serving runtime, Prometheus scraping it every second, and the workers. */
export async function startRolloutStack(opts: TemporalOptions = {}): Promise<RolloutStack> {
  const env = await startTemporal(opts);
  const home = await tempDir();
  const runtime = await startServingRuntime({ home, port: await freePort() });
  const prometheus = await startPrometheus({ targets: [new URL(runtime.url).host], dataDir: join(home, 'prometheus'), scrapeInterval: '1s' });
  const token = (await readFile(runtime.tokenFile, 'utf8')).trim();
  const admin = new RuntimeAdminClient({ url: runtime.url, token });
  const workers = await startWorkers(env, home, { runtime: { url: runtime.url, token }, metrics: { prometheusUrl: prometheus.url } });
  const stop = async () => {
    await workers.stop();
    await prometheus.stop();
    await runtime.stop();
    await env.teardown();
  };
  return { env, home, runtime, prometheus, admin, workers, stop };
}

/**
 * Tags digits v1.0.0 in `repo`, releases it and approves it as alice (the first release of the
 * model: it becomes the stable), then starts labelled traffic at `rate` requests/s; returns the
 * traffic to stop. Throws, with the decision records, when the release is not promoted.
 */
export async function promoteFirstDigits(stack: RolloutStack, repo: string, rate: number): Promise<Awaited<ReturnType<typeof startTraffic>>> {
  await tagDigits(repo, 'v1.0.0');
  const first = await startRelease(stack.env.client, { repo, tag: 'v1.0.0' });
  const status = await approveAll(stack.env.client, first.workflowId, 'alice');
  if (status.stage !== 'promoted') throw new Error(`digits v1.0.0 ended ${status.stage}, not promoted:\n${explain(status)}`);
  return startTraffic({ url: stack.runtime.url, model: 'digits', data: join(repo, 'data', 'heldout.npz'), rate, log: join(stack.home, 'traffic.log') });
}

/** A short plan: shadow, then 50% and 100%, analysis every 2s. */
const PLAN = `rollout:
  approvers: [alice, bob]
  serve: { target: cpu, precision: fp32 }
  shadow: { duration: 6s, sampleShare: 1.0, minRequests: 30 }
  canary:
    - { weight: 50, bake: 6s }
    - { weight: 100, bake: 4s }
  analysis: { interval: 2s, maxErrorRate: 0.01, maxErrorRateIncrease: 0.005, maxLatencyIncrease: 1.0, minAgreement: 0.90, minRequests: 20 }
  approvalTimeout: { after: APPROVAL_TIMEOUT, action: rollback }
`;

/** Tweaks of {@link tagDigits}. */
export interface DigitsTagOptions {
  trainArgs?: string[];
  acceptance?: string;
  approvalTimeout?: string;
  escalate?: boolean;
  minRequests?: number;
  maxBake?: string;
}

/** Trains and tags a version of the digits repo at `repo` with the short plan (and optional tweaks). */
export async function tagDigits(repo: string, version: string, opts: DigitsTagOptions = {}): Promise<void> {
  await trainAndTag({
    dir: repo,
    tag: version,
    trainArgs: opts.trainArgs ?? [],
    log: () => {},
    prepare: async (dir) => {
      const file = join(dir, 'modelship.yaml');
      let y = await readFile(file, 'utf8');
      y = y.replace('precisions: [fp32, int8]', 'precisions: [fp32]').replace(/int8: \{[^}]*\}\n/, '');
      y = y.slice(0, y.indexOf('rollout:')) + PLAN.replace('APPROVAL_TIMEOUT', opts.approvalTimeout ?? '10m').replace('action: rollback', `action: ${opts.escalate ? 'escalate' : 'rollback'}`);
      y = y.replace(/val_accuracy >= [0-9.]+/, opts.acceptance ?? 'val_accuracy >= 0.90');
      if (opts.minRequests !== undefined) y = y.replace('minAgreement: 0.90, minRequests: 20', `minAgreement: 0.90, minRequests: ${opts.minRequests}`);
      if (opts.maxBake) y = y.replace('  canary:\n', `  maxBake: ${opts.maxBake}\n  canary:\n`);
      await writeFile(file, y);
    },
  });
}

const HISTORIES = fileURLToPath(new URL('../histories/', import.meta.url));

/**
 * With `MODELSHIP_RECORD_HISTORIES=1`, writes each workflow's history to test/histories/ (the JSON
 * `temporal workflow show --output json` gives, which the replay test reads) and adds it to the
 * index; without it, does nothing. Without `runId`, the latest run's. Run after an intended change of workflow behaviour, then commit.
 */
export async function recordHistories(client: Client, entries: { file: string; workflowId: string; runId?: string }[]): Promise<void> {
  if (process.env.MODELSHIP_RECORD_HISTORIES !== '1') return;
  const index = JSON.parse(await readFile(join(HISTORIES, 'index.json'), 'utf8')) as Record<string, string>;
  for (const { file, workflowId, runId } of entries) {
    await writeFile(join(HISTORIES, file), `${historyToJSON(await client.workflow.getHandle(workflowId, runId).fetchHistory())}\n`);
    index[file] = workflowId;
  }
  await writeFile(join(HISTORIES, 'index.json'), `${JSON.stringify(index, null, 2)}\n`);
}
