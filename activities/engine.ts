/**
 * Steps 3–5 on a target's worker: build an engine, check its parity against PyTorch, benchmark it.
 * After the first step lands, the workflow sends the rest to this worker's own queue, so they find
 * the engine on local disk (and, for GPUs, run on the GPU that built it).
 *
 * @module
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import type { ArtifactRef } from '../lib/artifact-ref.ts';
import type { Precision, TargetSpec } from '../lib/manifest.ts';
import type { ExportedModel, ResolvedSource } from '../lib/release.ts';
import type { ParityReport } from '../lib/toolkit-contract.ts';
import { ErrorType } from '../lib/errors.ts';
import { workerQueue } from '../lib/task-queues.ts';
import type { ActivityDeps } from './deps.ts';
import { toolkitCallOptions, withFailures } from './failures.ts';
import { runKey } from './keys.ts';
import { runToolkit, ToolkitGateFailure } from './toolkit.ts';
import type { GpuRuntime } from './tensorrt/host.ts';
import { createTensorRTSteps } from './tensorrt/steps.ts';

/** Input shared by the engine steps. */
export interface EngineStepInput {
  releaseId: string;
  target: TargetSpec;
  precision: Precision;
  source: ResolvedSource;
  exported: ExportedModel;
}

/** A built engine, by reference. */
export interface BuiltEngine {
  engine: ArtifactRef;
  buildReport: ArtifactRef;
  buildLog: ArtifactRef;
  summary: string;
}

/** This worker's identity, handed in by the worker process. */
export interface WorkerIdentity {
  /** Stable per host, so a restarted worker polls the same worker queue. */
  workerId: string;
  /** A GPU worker's GPUs, TensorRT and trtexec; absent on CPU workers (tensorrt steps are refused). */
  gpu?: GpuRuntime;
}

/** Builds the engine-step activities of a target worker. */
export function createEngineActivities(deps: ActivityDeps, { workerId, gpu }: WorkerIdentity) {
  const { workspace, toolkit } = deps;
  const trt = gpu ? createTensorRTSteps(deps, workerId, gpu) : undefined;
  const tensorrt = (input: EngineStepInput) => {
    if (input.target.backend !== 'tensorrt') return undefined;
    if (!trt) {
      throw ApplicationFailure.create({
        type: ErrorType.BadInput,
        nonRetryable: true,
        message: `worker ${workerId} has no GPU: target ${input.target.name} (tensorrt) must run on a GPU worker (modelship worker --gpu)`,
      });
    }
    return trt;
  };
  const prefixOf = (i: EngineStepInput) => runKey(i.source.model, i.source.tag, i.source.commit.slice(0, 12), i.target.name, i.precision);
  const writeJson = async (dir: string, name: string, value: unknown) => {
    const path = join(dir, name);
    await writeFile(path, `${JSON.stringify(value, null, 2)}\n`);
    return path;
  };

  return {
    /** Names this worker and its own queue; the target's later steps are sent there. */
    async claimWorker(sharedQueue: string): Promise<{ workerId: string; queue: string }> {
      return { workerId, queue: workerQueue(sharedQueue, workerId) };
    },

    /** Step 3: builds one engine at one precision. */
    async buildEngine(input: EngineStepInput): Promise<BuiltEngine> {
      return withFailures(async () => {
        const gpuSteps = tensorrt(input);
        if (gpuSteps) return gpuSteps.build(input, prefixOf(input));
        const repoDir = await workspace.unpackSource(input.source.source, input.releaseId);
        const onnxPath = await workspace.fetch(input.exported.onnx);
        const outDir = await workspace.releaseDir(input.releaseId, input.target.name, input.precision);
        const report = await runToolkit(
          toolkit,
          'build',
          { repoDir, manifest: input.source.manifest, onnxPath, backend: input.target.backend, precision: input.precision, outDir },
          toolkitCallOptions('build'),
        );
        const prefix = prefixOf(input);
        const engine = await workspace.keep(prefix, engineFileName(input.target.backend, input.precision), report.engine.path);
        const buildLog = await workspace.keep(prefix, 'build.log', report.log.path);
        const reportPath = await writeJson(outDir, 'build.json', { ...report, engine: { sha256: report.engine.sha256, bytes: report.engine.bytes }, log: undefined, durationMs: undefined });
        const buildReport = await workspace.keep(prefix, 'build.json', reportPath);
        const quant = report.quantization ? `, ${report.quantization.method} on ${report.quantization.calibrationSamples} calibration samples` : '';
        return { engine, buildLog, buildReport, summary: `${(engine.bytes / 1024).toFixed(0)} KiB engine${quant}` };
      });
    },

    /** Step 4: PyTorch reference vs the engine; returns the report, failing verdicts included. */
    async checkParity(input: EngineStepInput & { engine: ArtifactRef }): Promise<{ report: ParityReport; ref: ArtifactRef }> {
      return withFailures(async () => {
        const gpuSteps = tensorrt(input);
        const outDir = await workspace.releaseDir(input.releaseId, input.target.name, input.precision);
        if (gpuSteps) {
          const report = await gpuSteps.parity(input);
          const path = await writeJson(outDir, 'parity.json', { ...report, durationMs: undefined });
          return { report, ref: await workspace.keep(prefixOf(input), 'parity.json', path) };
        }
        const repoDir = await workspace.unpackSource(input.source.source, input.releaseId);
        const checkpointPath = await workspace.fetch(input.source.checkpoint);
        const enginePath = await workspace.fetch(input.engine);
        let report: ParityReport;
        try {
          report = await runToolkit(
            toolkit,
            'parity',
            { repoDir, manifest: input.source.manifest, checkpointPath, enginePath, backend: input.target.backend, precision: input.precision },
            toolkitCallOptions('parity'),
          );
        } catch (err) {
          if (!(err instanceof ToolkitGateFailure)) throw err;
          report = err.report as ParityReport;
        }
        const path = await writeJson(outDir, 'parity.json', { ...report, durationMs: undefined });
        return { report, ref: await workspace.keep(prefixOf(input), 'parity.json', path) };
      });
    },

    /** Step 5: latency and throughput per shape after warm-up. */
    async benchmarkEngine(input: EngineStepInput & { engine: ArtifactRef }): Promise<{ ref: ArtifactRef; summary: string }> {
      return withFailures(async () => {
        const gpuSteps = tensorrt(input);
        const outDir = await workspace.releaseDir(input.releaseId, input.target.name, input.precision);
        const report = gpuSteps
          ? await gpuSteps.bench(input, outDir)
          : await runToolkit(
              toolkit,
              'bench',
              { manifest: input.source.manifest, enginePath: await workspace.fetch(input.engine), backend: input.target.backend, precision: input.precision },
              toolkitCallOptions('bench'),
            );
        const ref = await workspace.keep(prefixOf(input), 'bench.json', await writeJson(outDir, 'bench.json', report));
        const best = report.shapes.reduce((a, b) => (b.throughputPerSec > a.throughputPerSec ? b : a), report.shapes[0]!);
        const mem = report.gpu?.peakMemoryBytes ? `, peak GPU ${(report.gpu.peakMemoryBytes / 2 ** 20).toFixed(0)} MiB (${report.gpu.memorySource})` : '';
        return { ref, summary: `p50 ${best.latencyMs.p50.toFixed(3)} ms, ${best.throughputPerSec.toFixed(0)}/s at batch ${best.batch}${mem}` };
      });
    },
  };
}

/** The engine's file name in runs and packages. */
export function engineFileName(backend: TargetSpec['backend'], precision: Precision): string {
  return backend === 'tensorrt' ? `engine.${precision}.plan` : `engine.${precision}.onnx`;
}
