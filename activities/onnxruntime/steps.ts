/**
 * Steps 3–5 for backend onnxruntime-cpu (and onnxruntime-cuda): the toolkit builds the engine
 * (the FP32 model, or the QDQ INT8 model from calibration data), checks it with ONNX Runtime
 * against the PyTorch reference, and times it per shape.
 *
 * @module
 */
import type { ToolkitResult } from '../../lib/toolkit-contract.ts';
import type { EngineSteps } from '../../lib/engine-steps.ts';
import type { ActivityDeps } from '../deps.ts';
import { engineFileName } from '../engine-file.ts';
import { toolkitCallOptions } from '../failures.ts';
import { reportEvenIfGateFailed, runToolkit } from '../toolkit.ts';
import { writeJson } from '../workspace.ts';

/** build.json as runs and packages keep it: the toolkit's result without paths or duration (a retry writes the same bytes). */
export function storedBuildReport(report: ToolkitResult<'build'>): Record<string, unknown> {
  return { ...report, engine: { sha256: report.engine.sha256, bytes: report.engine.bytes }, log: undefined, durationMs: undefined };
}

/** The ONNX Runtime engine steps. */
export function createOnnxRuntimeSteps({ workspace, toolkit }: ActivityDeps): EngineSteps {
  return {
    async build(input, prefix) {
      const repoDir = await workspace.unpackSource(input.source.source, input.releaseId);
      const onnxPath = await workspace.fetch(input.exported.onnx);
      const outDir = await workspace.releaseDir(input.releaseId, input.target.name, input.precision);
      const report = await runToolkit(
        toolkit,
        'build',
        { repoDir, manifest: input.source.manifest, onnxPath, backend: input.target.backend, precision: input.precision, outDir },
        toolkitCallOptions('build'),
      );
      const engine = await workspace.keep(prefix, engineFileName(input.target.backend, input.precision), report.engine.path);
      const buildLog = await workspace.keep(prefix, 'build.log', report.log.path);
      const buildReport = await workspace.keep(prefix, 'build.json', await writeJson(outDir, 'build.json', storedBuildReport(report)));
      const quant = report.quantization ? `, ${report.quantization.method} on ${report.quantization.calibrationSamples} calibration samples` : '';
      return { engine, buildLog, buildReport, summary: `${(engine.bytes / 1024).toFixed(0)} KiB engine${quant}` };
    },

    async parity(input) {
      const repoDir = await workspace.unpackSource(input.source.source, input.releaseId);
      const checkpointPath = await workspace.fetch(input.source.checkpoint);
      const enginePath = await workspace.fetch(input.engine);
      return reportEvenIfGateFailed(
        runToolkit(
          toolkit,
          'parity',
          { repoDir, manifest: input.source.manifest, checkpointPath, enginePath, backend: input.target.backend, precision: input.precision },
          toolkitCallOptions('parity'),
        ),
      );
    },

    async bench(input) {
      const enginePath = await workspace.fetch(input.engine);
      return runToolkit(toolkit, 'bench', { manifest: input.source.manifest, enginePath, backend: input.target.backend, precision: input.precision }, toolkitCallOptions('bench'));
    },
  };
}
