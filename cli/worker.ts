/**
 * `modelship worker --queue <name>` / `modelship worker --gpu`: runs a worker process against a
 * Temporal cluster. With `--gpu` it finds its GPUs and TensorRT and polls `gpu-<arch>-trt<x.y>`
 * and `gpu-<arch>` (plus any `--queue` given).
 *
 * @module
 */
import type { Command } from 'commander';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { BuildIdSchema } from '../lib/config.ts';
import { CONTROL_QUEUE } from '../lib/task-queues.ts';
import { createGpuWorkers } from '../workers/gpu-worker.ts';
import { createWorkers, runWorkers } from '../workers/start-workers.ts';
import { temporalTarget } from './connection.ts';

interface WorkerOptions {
  queue?: string[];
  gpu?: boolean;
  gpus?: string;
  trtexec?: string;
  workerId?: string;
  artifacts?: string;
  buildId?: string;
  slots?: string;
}

/** Adds the `worker` command. */
export function registerWorkerCommand(program: Command): void {
  program
    .command('worker')
    .description(`poll task queues: "${CONTROL_QUEUE}" runs workflows and control steps; others (e.g. "cpu") run engine steps; --gpu runs TensorRT steps`)
    .option('--queue <name...>', `task queue(s) to poll, e.g. ${CONTROL_QUEUE} cpu`)
    .option('--gpu', 'a GPU worker: detect GPUs and TensorRT, poll gpu-<arch>-trt<x.y> and gpu-<arch>')
    .option('--gpus <indices>', 'with --gpu: only these GPU indices, e.g. 0,1 (default: all of one architecture)')
    .option('--trtexec <path>', 'with --gpu: the trtexec to run (default $MODELSHIP_TRTEXEC or trtexec on PATH)')
    .option('--worker-id <id>', 'stable name of this host (its own queue is <queue>@<id>); default the hostname')
    .option('--artifacts <uri>', 'artifact store (default $MODELSHIP_ARTIFACTS or .modelship/artifacts)')
    .option('--slots <n>', 'engine jobs at once on the target queues given with --queue (default 1: one job owns the machine); a GPU worker takes one per GPU')
    .option('--build-id <id>', 'control worker: its Worker Deployment build ID (default $MODELSHIP_BUILD_ID); releases stay pinned to the build that started them')
    .action(async (opts: WorkerOptions) => {
      const queues = opts.queue ?? [];
      if (!opts.gpu && queues.length === 0) program.error('worker: give --queue <name...>, or --gpu for a GPU worker');
      if (!opts.gpu && (opts.gpus || opts.trtexec)) program.error('worker: --gpus and --trtexec need --gpu');
      if (opts.buildId !== undefined) {
        if (!queues.includes(CONTROL_QUEUE)) program.error(`worker: --build-id versions the control worker; add --queue ${CONTROL_QUEUE}`);
        const checked = BuildIdSchema.safeParse(opts.buildId);
        if (!checked.success) program.error(`worker: --build-id ${JSON.stringify(opts.buildId)}: ${checked.error.issues[0]!.message}`);
      }
      const slots = opts.slots === undefined ? undefined : Number(opts.slots);
      if (slots !== undefined && (!Number.isInteger(slots) || slots < 1 || slots > 256)) program.error(`worker: --slots expects a whole number from 1 to 256; got ${opts.slots}`);
      if (slots !== undefined && queues.every((q) => q === CONTROL_QUEUE)) program.error('worker: --slots sets the engine jobs of target queues; add one with --queue (e.g. cpu)');
      const gpuIndices = opts.gpus?.split(',').map((s) => Number(s.trim()));
      if (gpuIndices?.some((i) => !Number.isInteger(i) || i < 0)) program.error(`worker: --gpus expects indices such as 0,1; got ${opts.gpus}`);
      const target = temporalTarget(program.opts());
      const connection = await NativeConnection.connect({ address: target.address });
      const workers: Worker[] = [];
      if (queues.length) {
        workers.push(
          ...(await createWorkers({
            connection,
            namespace: target.namespace,
            control: queues.includes(CONTROL_QUEUE),
            targetQueues: queues.filter((q) => q !== CONTROL_QUEUE),
            workerId: opts.workerId,
            artifacts: opts.artifacts,
            buildId: opts.buildId,
            maxConcurrentTargetJobs: slots,
          })),
        );
      }
      if (opts.gpu) {
        const gpu = await createGpuWorkers({ connection, namespace: target.namespace, workerId: opts.workerId, artifacts: opts.artifacts, trtexecPath: opts.trtexec, gpuIndices });
        console.log(`GPU worker ${gpu.description}`);
        workers.push(...gpu.workers);
      }
      console.log(`polling ${workers.map((w) => w.options.taskQueue).join(', ')} on ${target.address} (Ctrl-C stops)`);
      await runWorkers(workers);
      await connection.close();
    });
}
