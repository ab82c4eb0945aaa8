/**
 * The e2e tests' rollout stack, and driving rollouts as a person would: wait for a state, approve
 * every step as it comes.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { freePort, startPrometheus, type RunningPrometheus } from '../../activities/metrics/index.ts';
import { RuntimeAdminClient } from '../../activities/runtime/admin-client.ts';
import { startServingRuntime, type ServingRuntime } from '../../workers/serving-runtime.ts';
import { startTemporal, startWorkers, tempDir } from '../integration/harness.ts';
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

/** Starts the dev server, the serving runtime, Prometheus scraping it every second, and the workers. */
export async function startRolloutStack(): Promise<RolloutStack> {
  const env = await startTemporal();
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
