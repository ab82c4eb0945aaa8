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
import type { ToolkitResult } from '../lib/toolkit-contract.ts';

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
        return { onnx, exporter: report.exporter, opsetWritten: report.opsetWritten, report: reportRef, watchList: report.watchList, notes: exportNotes(report) };
      });
    },
  };
}

/** The export report's lines an operator should read, for the step summary and `release status`. */
export function exportNotes(report: Pick<ToolkitResult<'export'>, 'adjustments' | 'watchList'>): string[] {
  const notes: string[] = [];
  const a = report.adjustments;
  if (a?.fastPathsOff.length) notes.push(`inference fast paths off while exporting ${a.fastPathsOff.length} module(s) (${a.fastPathsOff.slice(0, 3).join(', ')}${a.fastPathsOff.length > 3 ? ', ...' : ''})`);
  if (a?.fallbackFrom) notes.push(`the dynamo exporter failed, so auto used torchscript (${a.fallbackFrom.slice(0, 200)})`);
  if (a?.symbolics.length) notes.push(`exported with modelship's own ONNX symbolic: ${a.symbolics.join(', ')}`);
  for (const w of report.watchList) notes.push(`watch ${w.op} (x${w.count}): ${w.advice}`);
  return notes;
}
