/**
 * What `release start` checks in the tagged tree, what a moved tag is told to do, and how printed
 * commands start.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exportNotes } from '../../activities/export.ts';
import { nextTag } from '../../cli/release/start-release.ts';
import { moduleFiles, namedPaths } from '../../cli/release/tagged-tree-check.ts';
import { cliCommand } from '../../cli/self-command.ts';
import { parseManifest } from '../../lib/manifest.ts';

const digits = parseManifest(readFileSync(new URL('../../examples/digits/modelship.yaml', import.meta.url), 'utf8'));

describe('the tagged tree check', () => {
  it('names every repository file the manifest points at, with its field', () => {
    expect(namedPaths(digits)).toEqual([
      { field: 'artifact.checkpoint', path: 'artifacts/model_best.pt', what: 'the checkpoint' },
      { field: 'artifact.metrics', path: 'artifacts/metrics.json', what: 'the metrics file' },
      { field: 'calibration.path', path: 'data/heldout.npz', what: 'the calibration data' },
      { field: 'parity.data.path', path: 'data/heldout.npz', what: 'the parity data' },
    ]);
    const elsewhere = { ...digits, artifact: { ...digits.artifact, checkpoint: 'file:///models/best.pt' } };
    expect(namedPaths(elsewhere).map((p) => p.field)).not.toContain('artifact.checkpoint');
  });

  it('looks for the entrypoint module as a file or a package under pythonPath', () => {
    expect(moduleFiles(digits)).toEqual(['model_def.py', 'model_def/__init__.py']);
    expect(moduleFiles({ ...digits, model: { ...digits.model, entrypoint: 'nets.cnn:Net', pythonPath: 'src' } })).toEqual(['src/nets/cnn.py', 'src/nets/cnn/__init__.py']);
  });

  it('suggests the next version for a moved tag', () => {
    expect(nextTag('v1.2.3')).toBe('v1.2.4');
    expect(nextTag('model/v9')).toBe('model/v10');
    expect(nextTag('release-candidate')).toBe('release-candidate-2');
  });
});

describe('what the operator reads', () => {
  it('lists the export adjustments and each watched operator with its advice', () => {
    expect(exportNotes({ adjustments: { fastPathsOff: ['enc.layers.0', 'enc.layers.0.self_attn'], fastPathsHow: 'x', symbolics: ['aten::affine_grid_generator'] }, watchList: [{ op: 'GridSample', count: 1, advice: 'TensorRT supports it from 8.5' }] })).toEqual([
      'inference fast paths off while exporting 2 module(s) (enc.layers.0, enc.layers.0.self_attn)',
      "exported with modelship's own ONNX symbolic: aten::affine_grid_generator",
      'watch GridSample (x1): TensorRT supports it from 8.5',
    ]);
    expect(exportNotes({ watchList: [] })).toEqual([]);
  });

  it('prints commands as runnable: modelship when it is on PATH, else npx modelship', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'path-'));
    expect(cliCommand(dir)).toBe('npx modelship');
    await writeFile(join(dir, 'modelship'), '#!/bin/sh\n');
    await chmod(join(dir, 'modelship'), 0o755);
    expect(cliCommand(dir)).toBe('modelship');
  });
});
