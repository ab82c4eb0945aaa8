import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { diffRows, formatDiff, type DiffSide } from '../../cli/release/diff.ts';
import { formatReleaseTable, listQuery } from '../../cli/release/list.ts';
import { progressBar, ProgressPrinter } from '../../cli/release/progress.ts';
import { reportFileName } from '../../cli/release/report.ts';
import type { BenchReport, ParityReport } from '../../lib/toolkit-contract.ts';

const fixture = (name: string) => JSON.parse(readFileSync(join(import.meta.dirname, '..', 'fixtures', 'report', name), 'utf8'));

describe('release list', () => {
  it('filters by model and stage; rollout phases are looked up on the rollout child', () => {
    expect(listQuery({})).toBe("WorkflowType = 'release'");
    expect(listQuery({ model: 'digits', stage: 'promoted' })).toBe("WorkflowType = 'release' AND ModelName = 'digits' AND ReleaseStage = 'promoted'");
    expect(listQuery({ stage: 'awaiting-approval' })).toBe("WorkflowType = 'rollout' AND ReleaseStage = 'awaiting-approval'");
  });

  it('refuses values that would change the query, naming the flag', () => {
    expect(() => listQuery({ model: "x' OR WorkflowType = 'rollout" })).toThrow(/^--model .* is not a model name/);
    expect(() => listQuery({ stage: 'done' })).toThrow(/^--stage "done" is not a stage/);
  });

  it('prints an aligned table', () => {
    const t = formatReleaseTable([
      { workflowId: 'release/digits/v1.0.0', model: 'digits', tag: 'v1.0.0', stage: 'promoted', status: 'COMPLETED', started: new Date('2026-12-01T02:00:00Z') },
      { workflowId: 'release/warp-cnn/v10.2.0', model: 'warp-cnn', tag: 'v10.2.0', stage: 'rolling-out', status: 'RUNNING', started: new Date('2026-12-01T03:00:00Z') },
    ]).split('\n');
    expect(t[0]).toMatch(/^MODEL\s+TAG\s+STAGE\s+WORKFLOW\s+STARTED\s+ID$/);
    expect(t[2]).toBe('warp-cnn  v10.2.0  rolling-out  running    2026-12-01 03:00:00  release/warp-cnn/v10.2.0');
    expect(t[1]!.indexOf('promoted')).toBe(t[2]!.indexOf('rolling-out'));
  });
});

describe('progress in --wait', () => {
  it('draws a bar for a known total and only the message otherwise', () => {
    expect(progressBar({ event: 'progress', step: 'parity', done: 310, total: 1000 })).toBe('[######--------------]  31% 310/1000');
    expect(progressBar({ event: 'progress', step: 'build', message: 'parsing' })).toBe('parsing');
    expect(progressBar({ event: 'progress', step: 'x', done: 5, total: 4 })).toMatch(/^\[#{20}\] 100%/);
  });

  it('prints each activity once per tenth', () => {
    const p = new ProgressPrinter();
    const at = (done: number) => [{ workflowId: 'w', activityType: 'checkParity', event: { event: 'progress' as const, step: 'parity', done, total: 100 } }];
    expect(p.lines(at(3))).toHaveLength(1);
    expect(p.lines(at(7))).toHaveLength(0);
    expect(p.lines(at(12))).toHaveLength(1);
    expect(p.lines(at(12))).toHaveLength(0);
    expect(p.lines([{ ...at(50)[0]!, activityType: 'benchmarkEngine' }])).toHaveLength(1);
  });
});

describe('release diff', () => {
  const side = (tag: string, bench: BenchReport, parity: Omit<ParityReport, 'durationMs'>, torch: string): DiffSide => ({
    status: { releaseId: `release/digits/${tag}`, model: 'digits', tag, commit: tag === 'v1.0.0' ? 'a'.repeat(40) : 'b'.repeat(40), stage: 'promoted', steps: [], packages: [] },
    engines: [{ target: 'cpu', precision: 'fp32', bench, parity }],
    metadata: { 'cpu-fp32': { engine: 'engine.fp32.onnx', files: { 'engine.fp32.onnx': { bytes: tag === 'v1.0.0' ? 80_000 : 100_000 } }, runtime: { torch, onnx: '1.17.0' } } },
  });

  it('puts both releases side by side with the change of each number', () => {
    const a = side('v1.0.0', fixture('bench-v1.0.0.json'), fixture('parity.json'), '1.13.0');
    const b = side('v1.1.0', fixture('bench-v1.1.0.json'), fixture('parity.json'), '2.4.0');
    const rows = diffRows(a, b);
    expect(rows.find((r) => r.field === 'commit')).toMatchObject({ a: 'aaaaaaaaaaaa', b: 'bbbbbbbbbbbb', change: 'changed' });
    expect(rows.find((r) => r.field === 'cpu-fp32 engine bytes')).toMatchObject({ a: '80000', b: '100000', change: '+25%' });
    expect(rows.find((r) => r.field === 'cpu-fp32 torch')).toMatchObject({ a: '1.13.0', b: '2.4.0' });
    expect(rows.some((r) => r.field === 'cpu-fp32 onnx')).toBe(false); // same on both sides
    // The fixtures: 39,656 samples/s at batch 1 for v1.0.0, 29,461 for v1.1.0.
    expect(rows.find((r) => r.field === 'cpu-fp32 batch 1 samples/s')).toMatchObject({ a: '39700', b: '29500', change: '-26%' });
    const text = formatDiff('v1.0.0', 'v1.1.0', rows).split('\n');
    expect(text[0]).toMatch(/^\s+v1\.0\.0\s+v1\.1\.0\s+change$/);
  });

  it('says which engines only one release has', () => {
    const a = side('v1.0.0', fixture('bench-v1.0.0.json'), fixture('parity.json'), '1');
    const b = { ...side('v1.1.0', fixture('bench-v1.1.0.json'), fixture('parity.json'), '1'), engines: [] };
    expect(diffRows(a, b).find((r) => r.field === 'cpu-fp32 packaged')).toMatchObject({ a: 'yes', b: 'no', change: 'changed' });
  });
});

describe('release report', () => {
  it('names the file after the release, keeping tags with / in one file name', () => {
    expect(reportFileName('digits', 'v1.2.0')).toBe('digits-v1.2.0-report.html');
    expect(reportFileName('digits', 'model/v2')).toBe('digits-model_v2-report.html');
  });
});
