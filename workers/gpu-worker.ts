/**
 * The GPU worker: finds its GPUs and TensorRT (toolkit `doctor` + the trtexec banner), then polls
 * the queues named by its architecture — `gpu-<arch>-trt<major.minor>` and `gpu-<arch>` — and
 * their `@<workerId>` queues, with the engine activities. One activity slot per GPU: each job
 * takes a GPU index from a shared pool and sees only that GPU (`CUDA_VISIBLE_DEVICES`).
 *
 * @module
 */
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { Worker, type NativeConnection } from '@temporalio/worker';
import { createTargetActivities } from '../activities/index.ts';
import { openArtifactStore } from '../activities/store/open-store.ts';
import { defaultToolkitConfig } from '../activities/toolkit.ts';
import { Workspace } from '../activities/workspace.ts';
import { describeGpuHost, detectGpuHost, gpuQueues, GpuSlotPool, type GpuHost } from '../activities/tensorrt/index.ts';
import { workerQueue } from '../lib/task-queues.ts';

/** How a GPU worker process is set up. */
export interface GpuWorkerSetup {
  connection: NativeConnection;
  namespace?: string;
  /** Local folder for the cache and scratch files. Default `$MODELSHIP_HOME` or `.modelship`. */
  home?: string;
  /** Artifact store location; default `$MODELSHIP_ARTIFACTS` or `<home>/artifacts`. */
  artifacts?: string;
  /** Stable name of this host's worker; default `$MODELSHIP_WORKER_ID` or the hostname. */
  workerId?: string;
  /** The trtexec to run; default `$MODELSHIP_TRTEXEC` or `trtexec` on PATH. */
  trtexecPath?: string;
  /** Only these GPU indices (default every GPU of the first GPU's architecture). */
  gpuIndices?: number[];
  /** Skips detection (tests, or a host whose detection must be pinned): the host as given. */
  gpu?: GpuHost;
}

/** The Workers of a GPU worker process (not yet running) and what they were made for. */
export interface GpuWorkers {
  workers: Worker[];
  host: GpuHost;
  /** Shared queues polled (each also as `<queue>@<workerId>`). */
  queues: string[];
  workerId: string;
  /** One line for the console. */
  description: string;
}

/** Detects the GPUs (unless handed in) and creates the Workers of a GPU worker. */
export async function createGpuWorkers(setup: GpuWorkerSetup): Promise<GpuWorkers> {
  const home = resolve(setup.home ?? process.env.MODELSHIP_HOME ?? '.modelship');
  const workspace = new Workspace(home, openArtifactStore(setup.artifacts ?? process.env.MODELSHIP_ARTIFACTS ?? join(home, 'artifacts')));
  const toolkit = defaultToolkitConfig(workspace.scratchDir);
  const trtexecPath = setup.trtexecPath ?? process.env.MODELSHIP_TRTEXEC ?? 'trtexec';
  const workerId = setup.workerId ?? process.env.MODELSHIP_WORKER_ID ?? hostname();
  const host = setup.gpu ?? (await detectGpuHost({ toolkit, trtexecPath, indices: setup.gpuIndices }));
  const slots = new GpuSlotPool(host.devices.map((d) => d.index));
  const activities = createTargetActivities({ workspace, toolkit }, { workerId, gpu: { host, slots, trtexecPath } });
  const queues = gpuQueues(host);
  const workers: Worker[] = [];
  for (const queue of queues) {
    for (const taskQueue of [queue, workerQueue(queue, workerId)]) {
      workers.push(
        await Worker.create({
          connection: setup.connection,
          namespace: setup.namespace ?? 'default',
          taskQueue,
          activities,
          // A task beyond the GPU count waits for a GPU in the slot pool (heartbeating), so
          // each queue may take as many tasks as there are GPUs.
          maxConcurrentActivityTaskExecutions: host.devices.length,
        }),
      );
    }
  }
  return { workers, host, queues, workerId, description: `${workerId}: ${describeGpuHost(host)}; polling ${queues.join(', ')} (+ @${workerId})` };
}
