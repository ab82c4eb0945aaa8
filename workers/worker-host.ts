/**
 * What every worker entry point shares: where this host keeps things (home, artifact store,
 * toolkit scratch) and its name, resolved from the setup and then the configuration; and the
 * Workers of a target queue — the shared queue and this host's own `<queue>@<workerId>`.
 *
 * @module
 */
import { resolve } from 'node:path';
import { Worker, type NativeConnection } from '@temporalio/worker';
import { loadConfig, type ModelshipConfig } from '../lib/config.ts';
import { workerQueue } from '../lib/task-queues.ts';
import { openArtifactStore } from '../activities/store/open-store.ts';
import { defaultToolkitConfig, type ToolkitConfig } from '../activities/toolkit.ts';
import { Workspace } from '../activities/workspace.ts';

/** What a worker process may set; the rest comes from the configuration. */
export interface HostSetup {
  /** Local folder for the cache and scratch files; default `$MODELSHIP_HOME` or `.modelship`. */
  home?: string;
  /** Artifact store location; default `$MODELSHIP_ARTIFACTS` or `<home>/artifacts`. */
  artifacts?: string;
  /** Stable name of this host's worker; default `$MODELSHIP_WORKER_ID` or the host name. */
  workerId?: string;
}

/** A worker host, resolved. */
export interface WorkerHost {
  home: string;
  workspace: Workspace;
  toolkit: ToolkitConfig;
  workerId: string;
  config: ModelshipConfig;
}

/** Resolves the host of a worker process: the setup first, then the environment's configuration. */
export function resolveHost(setup: HostSetup, env: NodeJS.ProcessEnv = process.env): WorkerHost {
  const config = loadConfig(env, { home: setup.home, artifacts: setup.artifacts, workerId: setup.workerId });
  const home = resolve(config.home);
  const workspace = new Workspace(home, openArtifactStore(config.artifacts));
  return { home, workspace, toolkit: defaultToolkitConfig(workspace.scratchDir), workerId: config.workerId, config };
}

/** Options of {@link targetWorkers}. */
export interface TargetWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  workerId: string;
  activities: object;
  /** Activity slots of each Worker. */
  maxConcurrentActivityTaskExecutions: number;
}

/** A Worker on each queue and on this host's `<queue>@<workerId>` (not yet running). */
export async function targetWorkers(queues: string[], o: TargetWorkerOptions): Promise<Worker[]> {
  const workers: Worker[] = [];
  for (const queue of queues) {
    for (const taskQueue of [queue, workerQueue(queue, o.workerId)]) {
      workers.push(
        await Worker.create({
          connection: o.connection,
          namespace: o.namespace,
          taskQueue,
          activities: o.activities,
          maxConcurrentActivityTaskExecutions: o.maxConcurrentActivityTaskExecutions,
        }),
      );
    }
  }
  return workers;
}
