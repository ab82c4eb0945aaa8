/**
 * Steps 3–5 on a target's worker: build an engine, check its parity against PyTorch, benchmark it
 * — each by the target backend's {@link EngineSteps}, with what is common here (keeping the
 * reports, the one-line summaries). After the first step lands, the workflow sends the rest to
 * this worker's own queue, so they find the engine on local disk (and, for GPUs, run on the GPU
 * that built it).
 *
 * @module
 */
import { ApplicationFailure } from '@temporalio/common';
import type { ArtifactRef } from '../lib/artifact-ref.ts';
import type { BuiltEngine, BuiltEngineInput, EngineStepInput, EngineSteps } from '../lib/engine-steps.ts';
import { ErrorType } from '../lib/errors.ts';
import { workerQueue } from '../lib/task-queues.ts';
import type { ParityReport } from '../lib/toolkit-contract.ts';
import type { ActivityDeps } from './deps.ts';
import { withFailures } from './failures.ts';
import { runKey } from './keys.ts';
import { createOnnxRuntimeSteps } from './onnxruntime/steps.ts';
import type { GpuRuntime } from './tensorrt/host.ts';
import { createTensorRTSteps } from './tensorrt/steps.ts';
import { writeJson } from './workspace.ts';

export type { BuiltEngine, EngineStepInput } from '../lib/engine-steps.ts';
export { engineFileName } from './engine-file.ts';

/** This worker's identity, handed in by the worker process. */
export interface WorkerIdentity {
  /** Stable per host, so a restarted worker polls the same worker queue. */
  workerId: string;
  /** A GPU worker's GPUs, TensorRT and trtexec; absent on CPU workers (tensorrt steps are refused). */
  gpu?: GpuRuntime;
}

/** Builds the engine-step activities of a target worker. */
export function createEngineActivities(deps: ActivityDeps, { workerId, gpu }: WorkerIdentity) {
  const { workspace } = deps;
  const onnxruntime = createOnnxRuntimeSteps(deps);
  const tensorrt = gpu ? createTensorRTSteps(deps, workerId, gpu) : undefined;
  /** The target backend's steps on this worker. */
  const stepsFor = (input: EngineStepInput): EngineSteps => {
    if (input.target.backend !== 'tensorrt') return onnxruntime;
    if (tensorrt) return tensorrt;
    throw ApplicationFailure.create({
      type: ErrorType.BadInput,
      nonRetryable: true,
      message: `worker ${workerId} has no GPU: target ${input.target.name} (tensorrt) must run on a GPU worker (modelship worker --gpu)`,
    });
  };
  const prefixOf = (i: EngineStepInput) => runKey(i.source.model, i.source.tag, i.source.commit.slice(0, 12), i.target.name, i.precision);
  const outDirOf = (i: EngineStepInput) => workspace.releaseDir(i.releaseId, i.target.name, i.precision);

  return {
    /** Names this worker and its own queue; the target's later steps are sent there. */
    async claimWorker(sharedQueue: string): Promise<{ workerId: string; queue: string }> {
      return { workerId, queue: workerQueue(sharedQueue, workerId) };
    },

    /** Step 3: builds one engine at one precision. */
    async buildEngine(input: EngineStepInput): Promise<BuiltEngine> {
      return withFailures(async () => stepsFor(input).build(input, prefixOf(input)));
    },

    /** Step 4: PyTorch reference vs the engine; returns the report, failing verdicts included. */
    async checkParity(input: BuiltEngineInput): Promise<{ report: ParityReport; ref: ArtifactRef }> {
      return withFailures(async () => {
        const report = await stepsFor(input).parity(input);
        // Kept without its duration, so a retried step writes the same bytes.
        const path = await writeJson(await outDirOf(input), 'parity.json', { ...report, durationMs: undefined });
        return { report, ref: await workspace.keep(prefixOf(input), 'parity.json', path) };
      });
    },

    /** Step 5: latency and throughput per shape after warm-up. */
    async benchmarkEngine(input: BuiltEngineInput): Promise<{ ref: ArtifactRef; summary: string }> {
      return withFailures(async () => {
        const outDir = await outDirOf(input);
        const report = await stepsFor(input).bench(input, outDir);
        const ref = await workspace.keep(prefixOf(input), 'bench.json', await writeJson(outDir, 'bench.json', report));
        const best = report.shapes.reduce((a, b) => (b.throughputPerSec > a.throughputPerSec ? b : a), report.shapes[0]!);
        const mem = report.gpu?.peakMemoryBytes ? `, peak GPU ${(report.gpu.peakMemoryBytes / 2 ** 20).toFixed(0)} MiB (${report.gpu.memorySource})` : '';
        return { ref, summary: `p50 ${best.latencyMs.p50.toFixed(3)} ms, ${best.throughputPerSec.toFixed(0)}/s at batch ${best.batch}${mem}` };
      });
    },
  };
}
