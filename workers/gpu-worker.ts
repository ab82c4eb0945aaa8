/**
 * The GPU worker: finds its GPUs and TensorRT (toolkit `doctor` + the trtexec banner), then polls
 * the queues named by its architecture — `gpu-<arch>-trt<major.minor>` and `gpu-<arch>` — and
 * their `@<workerId>` queues, with the engine activities. One activity slot per GPU: each job
 * takes a GPU index from a shared pool and sees only that GPU (`CUDA_VISIBLE_DEVICES`).
 *
 * @module
 */
import type { NativeConnection, Worker } from '@temporalio/worker';
import { createTargetActivities } from '../activities/index.ts';
import { describeGpuHost, detectGpuHost, gpuQueues, GpuSlotPool, type GpuHost } from '../activities/tensorrt/index.ts';
import { resolveHost, targetWorkers, type HostSetup } from './worker-host.ts';

/** How a GPU worker process is set up. */
export interface GpuWorkerSetup extends HostSetup {
  connection: NativeConnection;
  namespace?: string;
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
  const { workspace, toolkit, workerId, config } = resolveHost(setup);
  const trtexecPath = setup.trtexecPath ?? config.trtexec;
  const host = setup.gpu ?? (await detectGpuHost({ toolkit, trtexecPath, indices: setup.gpuIndices }));
  const slots = new GpuSlotPool(host.devices.map((d) => d.index));
  const queues = gpuQueues(host);
  // A task beyond the GPU count waits for a GPU in the slot pool (heartbeating), so each queue
  // may take as many tasks as there are GPUs.
  const workers = await targetWorkers(queues, {
    connection: setup.connection,
    namespace: setup.namespace ?? config.namespace,
    workerId,
    activities: createTargetActivities({ workspace, toolkit }, { workerId, gpu: { host, slots, trtexecPath } }),
    maxConcurrentActivityTaskExecutions: host.devices.length,
  });
  return { workers, host, queues, workerId, description: `${workerId}: ${describeGpuHost(host)}; polling ${queues.join(', ')} (+ @${workerId})` };
}
