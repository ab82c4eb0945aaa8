import { describe, expect, it } from 'vitest';
import { decideLadder, ladderOf, parityFailureReason } from '../../../lib/targets.ts';
import { parseManifest } from '../../../lib/manifest.ts';
import { ManifestError } from '../../../lib/errors.ts';
import { readFileSync } from 'node:fs';

const ladder = ['int8', 'fp16', 'fp32'] as const;

describe('precision ladder decision', () => {
  it('starts at the top and stops at the first pass', () => {
    expect(decideLadder([...ladder], [])).toEqual({ action: 'try', precision: 'int8' });
    expect(decideLadder([...ladder], [{ precision: 'int8', verdict: 'pass' }])).toEqual({ action: 'done', precision: 'int8', summary: 'int8 passed parity (first on the ladder)' });
  });

  it('falls back and says why', () => {
    const tried = [{ precision: 'int8' as const, verdict: 'fail' as const, reason: 'minTop1Agreement 0.93 < 0.95' }];
    expect(decideLadder([...ladder], tried)).toEqual({ action: 'try', precision: 'fp16' });
    expect(decideLadder([...ladder], [...tried, { precision: 'fp16', verdict: 'pass' }])).toEqual({
      action: 'done',
      precision: 'fp16',
      summary: 'int8 failed parity (minTop1Agreement 0.93 < 0.95), fell back to fp16',
    });
  });

  it('gives up when every rung failed, listing each reason', () => {
    const d = decideLadder(['fp16', 'fp32'], [
      { precision: 'fp16', verdict: 'fail', reason: 'maxAbs 0.02 > 0.01' },
      { precision: 'fp32', verdict: 'fail', reason: 'nonFinite.engine 3 != 0' },
    ]);
    expect(d).toEqual({ action: 'exhausted', summary: 'no precision on the ladder [fp16, fp32] passed parity: fp16 failed parity (maxAbs 0.02 > 0.01), fp32 failed parity (nonFinite.engine 3 != 0)' });
  });

  it('refuses rungs out of ladder order', () => {
    expect(() => decideLadder([...ladder], [{ precision: 'fp16', verdict: 'fail' }])).toThrow(/rung 0 is fp16/);
  });

  it('turns failed parity checks into one reason', () => {
    const checks = [
      { name: 'maxAbs', statistic: 0.123456, op: '<=', threshold: 0.01, passed: false },
      { name: 'minTop1Agreement', statistic: 0.99, op: '>=', threshold: 0.95, passed: true },
      { name: 'minTop5Agreement', statistic: null, op: '>=', threshold: 0.95, passed: false },
    ];
    expect(parityFailureReason({ checks })).toBe('maxAbs 0.1235 > 0.01, minTop5Agreement n/a < 0.95');
  });
});

const example = readFileSync(new URL('../../../examples/digits/modelship.yaml', import.meta.url), 'utf8');
const gpuTarget = (extra: string, precisions = '[int8, fp16, fp32]') =>
  example
    .replace('precisions: [fp32, int8]', `precisions: [fp32, int8]\n  - name: h100\n    backend: tensorrt\n    gpu: sm90\n    precisions: ${precisions}${extra}`)
    .replace('int8: { minTop1Agreement', 'fp16: { maxAbs: 0.01 }\n    int8: { minTop1Agreement');
const issues = (text: string) => {
  try {
    parseManifest(text);
    return [];
  } catch (err) {
    return (err as ManifestError).issues.map((i) => `${i.field}: ${i.message}`);
  }
};

describe('manifest: ladder and workspaceMiB', () => {
  it('accepts a ladder ordering every precision, and a workspace for tensorrt', () => {
    const m = parseManifest(gpuTarget('\n    ladder: [int8, fp16, fp32]\n    workspaceMiB: 4096'));
    const t = m.targets[1]!;
    expect(ladderOf(t)).toEqual(['int8', 'fp16', 'fp32']);
    expect(t.workspaceMiB).toBe(4096);
    expect(ladderOf(m.targets[0]!)).toBeUndefined();
  });

  it('names the ladder entries that do not fit the precisions', () => {
    expect(issues(gpuTarget('\n    ladder: [int8, bf16, int8]'))).toEqual([
      'targets[1].ladder[1]: bf16 is on the ladder but not in precisions [int8, fp16, fp32]',
      'targets[1].ladder[2]: int8 is on the ladder twice',
      'targets[1].ladder: the ladder must order every precision of the target; missing fp16, fp32 (or drop them from precisions)',
    ]);
  });

  it('refuses a workspace on a CPU target', () => {
    expect(issues(example.replace('precisions: [fp32, int8]', 'precisions: [fp32, int8]\n    workspaceMiB: 1024'))).toEqual([
      'targets[0].workspaceMiB: workspaceMiB is a TensorRT builder setting; onnxruntime-cpu has none',
    ]);
  });
});
