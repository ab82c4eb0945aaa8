/**
 * Task-queue names. The control queue runs workflows and the steps that need no accelerator;
 * each target's steps run on a queue named by its backend and GPU architecture; once a target's
 * first step lands, its later steps go to that worker's own queue so they share its disk and GPU.
 *
 * @module
 */
import type { TargetSpec } from './manifest.ts';

/** The queue of workflows and of the resolve, export and package steps. */
export const CONTROL_QUEUE = 'modelship-control';

/** The shared queue of CPU (ONNX Runtime) targets. */
export const CPU_QUEUE = 'cpu';

/** The queue a target's steps are scheduled on. */
export function queueForTarget(target: Pick<TargetSpec, 'backend' | 'gpu' | 'taskQueue'>): string {
  if (target.taskQueue) return target.taskQueue;
  if (target.backend === 'tensorrt') return `gpu-${target.gpu ?? 'unknown'}`;
  return CPU_QUEUE;
}

/** The queue only one worker host polls, for the steps that must follow its first one. */
export function workerQueue(sharedQueue: string, workerId: string): string {
  return `${sharedQueue}@${workerId}`;
}
