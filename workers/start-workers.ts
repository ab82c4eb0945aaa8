/**
 * Worker processes: which Worker polls which task queue with which activities. The control worker
 * runs the workflows and the control activities; a target worker polls its shared queue and its
 * own `<queue>@<workerId>` queue with the engine activities.
 *
 * @module
 */
import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createControlActivities, createRolloutActivities, createTargetActivities } from '../activities/index.ts';
import { createAnalysisActivities, metricsSourceFromConfig, type MetricsConfig } from '../activities/metrics/index.ts';
import { runtimeEndpointFromConfig } from '../activities/rollout.ts';
import type { RuntimeEndpoint } from '../activities/runtime/admin-client.ts';
import { CONTROL_QUEUE } from '../lib/task-queues.ts';
import { resolveHost, targetWorkers, type HostSetup } from './worker-host.ts';

/** The workflow sources the control worker bundles. */
export const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

/** What a worker process polls and where it keeps things. */
export interface WorkerSetup extends HostSetup {
  connection: NativeConnection;
  namespace?: string;
  /** Poll the control queue (workflows + resolve/export/package). */
  control: boolean;
  /** Shared target queues to poll, e.g. `cpu`, `gpu-sm90`. */
  targetQueues: string[];
  /** A pre-built workflow bundle (tests build it once). */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Concurrent engine jobs per target queue; default 1 (one job owns the CPU or GPU). */
  maxConcurrentTargetJobs?: number;
  /** The serving runtime the rollout drives; default from `MODELSHIP_RUNTIME_URL` and the token file. */
  runtime?: RuntimeEndpoint;
  /** Where analysis reads metrics; default `MODELSHIP_PROMETHEUS_URL`, else scrapes of the runtime. */
  metrics?: MetricsConfig;
  /** The control worker's Worker Deployment build ID; default `MODELSHIP_BUILD_ID` (unversioned when neither). */
  buildId?: string;
}

/**
 * Worker Versioning of the control worker: a release bakes for days while workflow code changes,
 * so its workflows are pinned to the build that started them. In-flight releases keep running on
 * the old build's workers; releases started after `temporal worker deployment set-current-version`
 * run on the new one. Engine workers stay unversioned (their activities carry no workflow code).
 */
export function controlDeployment(deploymentName: string, buildId: string | undefined): Pick<WorkerOptions, 'workerDeploymentOptions'> {
  if (!buildId) return {};
  return { workerDeploymentOptions: { useWorkerVersioning: true, version: { deploymentName, buildId }, defaultVersioningBehavior: 'PINNED' } };
}

/** Creates the Workers of one process (not yet running). */
export async function createWorkers(setup: WorkerSetup): Promise<Worker[]> {
  const { workspace, toolkit, workerId, config } = resolveHost(setup);
  const deps = { workspace, toolkit };
  const common = { connection: setup.connection, namespace: setup.namespace ?? config.namespace };
  const workers: Worker[] = [];

  if (setup.control) {
    const runtime = setup.runtime ?? (await runtimeEndpointFromConfig(config));
    const metrics = metricsSourceFromConfig(setup.metrics ?? { prometheusUrl: config.prometheusUrl, serveUrl: runtime.url });
    workers.push(
      await Worker.create({
        ...common,
        taskQueue: CONTROL_QUEUE,
        ...controlDeployment(config.deploymentName, setup.buildId ?? config.buildId),
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
  workers.push(
    ...(await targetWorkers(setup.targetQueues, {
      ...common,
      workerId,
      activities: createTargetActivities(deps, { workerId }),
      maxConcurrentActivityTaskExecutions: setup.maxConcurrentTargetJobs ?? 1,
    })),
  );
  return workers;
}

/** Runs Workers until they shut down (SIGINT/SIGTERM, or `shutdown()` on each). */
export async function runWorkers(workers: Worker[]): Promise<void> {
  await Promise.all(workers.map((w) => w.run()));
}
