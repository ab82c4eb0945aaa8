/**
 * Worker processes: which Worker polls which task queue with which activities. The control worker
 * runs the workflows and the control activities; a target worker polls its shared queue and its
 * own `<queue>@<workerId>` queue with the engine activities.
 *
 * @module
 */
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createControlActivities, createRolloutActivities, createTargetActivities } from '../activities/index.ts';
import { createAnalysisActivities, metricsSourceFromConfig, type MetricsConfig } from '../activities/metrics/index.ts';
import { runtimeEndpointFromEnv } from '../activities/rollout.ts';
import type { RuntimeEndpoint } from '../activities/runtime/admin-client.ts';
import { openArtifactStore } from '../activities/store/open-store.ts';
import { defaultToolkitConfig } from '../activities/toolkit.ts';
import { Workspace } from '../activities/workspace.ts';
import { CONTROL_QUEUE, workerQueue } from '../lib/task-queues.ts';

/** The workflow sources the control worker bundles. */
export const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

/** What a worker process polls and where it keeps things. */
export interface WorkerSetup {
  connection: NativeConnection;
  namespace?: string;
  /** Poll the control queue (workflows + resolve/export/package). */
  control: boolean;
  /** Shared target queues to poll, e.g. `cpu`, `gpu-sm90`. */
  targetQueues: string[];
  /** Local folder for the cache and scratch files. Default `.modelship`. */
  home?: string;
  /** Artifact store location (`MODELSHIP_ARTIFACTS`). */
  artifacts?: string;
  /** Stable name of this host's worker; default the hostname. */
  workerId?: string;
  /** A pre-built workflow bundle (tests build it once). */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Concurrent engine jobs per target queue; default 1 (one job owns the CPU or GPU). */
  maxConcurrentTargetJobs?: number;
  /** The serving runtime the rollout drives; default from `MODELSHIP_RUNTIME_URL` and the token file. */
  runtime?: RuntimeEndpoint;
  /** Where analysis reads metrics; default `MODELSHIP_PROMETHEUS_URL`, else scrapes of the runtime. */
  metrics?: MetricsConfig;
}

/** Creates the Workers of one process (not yet running). */
export async function createWorkers(setup: WorkerSetup): Promise<Worker[]> {
  const home = resolve(setup.home ?? process.env.MODELSHIP_HOME ?? '.modelship');
  const workspace = new Workspace(home, openArtifactStore(setup.artifacts ?? process.env.MODELSHIP_ARTIFACTS ?? join(home, 'artifacts')));
  const deps = { workspace, toolkit: defaultToolkitConfig(workspace.scratchDir) };
  const workerId = setup.workerId ?? process.env.MODELSHIP_WORKER_ID ?? hostname();
  const common = { connection: setup.connection, namespace: setup.namespace ?? 'default' };
  const workers: Worker[] = [];

  if (setup.control) {
    const runtime = setup.runtime ?? (await runtimeEndpointFromEnv(home));
    const metrics = metricsSourceFromConfig(setup.metrics ?? { prometheusUrl: process.env.MODELSHIP_PROMETHEUS_URL, serveUrl: runtime.url });
    workers.push(
      await Worker.create({
        ...common,
        taskQueue: CONTROL_QUEUE,
        ...(setup.workflowBundle ? { workflowBundle: setup.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
        activities: {
          ...createControlActivities(deps),
          ...createRolloutActivities({ ...deps, runtime }),
          ...createAnalysisActivities({ source: metrics }),
        },
        maxConcurrentActivityTaskExecutions: 2,
      }),
    );
  }
  const targetActivities = createTargetActivities(deps, { workerId });
  for (const queue of setup.targetQueues) {
    for (const taskQueue of [queue, workerQueue(queue, workerId)]) {
      workers.push(
        await Worker.create({
          ...common,
          taskQueue,
          activities: targetActivities,
          maxConcurrentActivityTaskExecutions: setup.maxConcurrentTargetJobs ?? 1,
        }),
      );
    }
  }
  return workers;
}

/** Runs Workers until they shut down (SIGINT/SIGTERM, or `shutdown()` on each). */
export async function runWorkers(workers: Worker[]): Promise<void> {
  await Promise.all(workers.map((w) => w.run()));
}
