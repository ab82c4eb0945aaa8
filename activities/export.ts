/**
 * Step 2: export the checkpoint to ONNX and keep the export report.
 *
 * @module
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExportedModel, ResolvedSource } from '../lib/release.ts';
import type { ActivityDeps } from './deps.ts';
import { toolkitCallOptions, withFailures } from './failures.ts';
import { runKey } from './keys.ts';
import { runToolkit } from './toolkit.ts';

/** Builds the export activity. */
export function createExportActivities({ workspace, toolkit }: ActivityDeps) {
  return {
    /** PyTorch → ONNX (FP32, dynamic axes, opset ≥ 17), checked; stores model.onnx and export.json. */
    async exportOnnx(input: { releaseId: string; source: ResolvedSource }): Promise<ExportedModel> {
      return withFailures(async () => {
        const { source } = input;
        const repoDir = await workspace.unpackSource(source.source, input.releaseId);
        const checkpointPath = await workspace.fetch(source.checkpoint);
        const outDir = await workspace.releaseDir(input.releaseId, 'export');
        const report = await runToolkit(
          toolkit,
          'export',
          { repoDir, manifest: source.manifest, checkpointPath, outDir },
          toolkitCallOptions('export'),
        );
        const prefix = runKey(source.model, source.tag, source.commit.slice(0, 12), 'export');
        const onnx = await workspace.keep(prefix, 'model.onnx', report.onnx.path);
        const reportPath = join(outDir, 'export.json');
        // Paths are worker-local; the stored report keeps only what holds everywhere.
        await writeFile(reportPath, `${JSON.stringify({ ...report, onnx: { sha256: report.onnx.sha256, bytes: report.onnx.bytes }, durationMs: undefined }, null, 2)}\n`);
        const reportRef = await workspace.keep(prefix, 'export.json', reportPath);
        return { onnx, exporter: report.exporter, opsetWritten: report.opsetWritten, report: reportRef, watchList: report.watchList };
      });
    },
  };
}
