/**
 * Models users bring, released by the real workflow with no hand edits: a MobileNetV3-small, a
 * transformer text classifier with two int64 inputs, a regression model with two inputs and two
 * outputs, and a spatial-transformer CNN (F.affine_grid + F.grid_sample). Each reaches packaged fp32
 * and int8 engines whose parity passed per output and across its dynamic shapes; int8 is released by
 * the automatic levers where the default quantization misses the tolerance.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { startRelease } from '../../cli/release/start-release.ts';
import type { ParityReport } from '../../lib/toolkit-contract.ts';
import { makeModelRepo, startTemporal, startWorkers, tempDir } from './harness.ts';

let env: TestWorkflowEnvironment;
let workers: Awaited<ReturnType<typeof startWorkers>>;

beforeAll(async () => {
  env = await startTemporal();
  workers = await startWorkers(env, await tempDir());
});

afterAll(async () => {
  await workers?.stop();
  await env?.teardown();
});

/** The dynamic dims each example declares, and how many distinct shapes parity must have run. */
const EXAMPLES: { example: string; outputs: string[]; minShapes: number }[] = [
  { example: 'gratings-mobilenet', outputs: ['logits'], minShapes: 4 },
  { example: 'text-transformer', outputs: ['logits'], minShapes: 4 },
  { example: 'two-head-regression', outputs: ['prediction', 'log_variance'], minShapes: 4 },
  { example: 'warp-cnn', outputs: ['logits'], minShapes: 4 },
];

describe('any model', () => {
  it.each(EXAMPLES)('releases $example to packaged fp32 and int8 engines', async ({ example, outputs, minShapes }) => {
    const repo = await makeModelRepo(await tempDir(), { example });
    const r = await startRelease(env.client, { repo, tag: 'v1.0.0', rollout: false });
    const status = await r.handle.result();
    expect(status.stage, JSON.stringify(status.steps.filter((s) => s.state !== 'done'))).toBe('packaged');
    expect(status.packages.map((p) => p.precision).sort()).toEqual(['fp32', 'int8']);

    const exportStep = status.steps.find((s) => s.step === 'export');
    expect(exportStep?.state).toBe('done');
    for (const p of status.packages) {
      const parity = JSON.parse(await readFile(join(fileURLToPath(p.uri), 'parity.json'), 'utf8')) as ParityReport;
      expect(parity.verdict).toBe('pass');
      // Reported per output; where the tolerance bounds element errors, gated per output too.
      expect(Object.keys(parity.stats.outputs ?? {})).toEqual(outputs);
      if (Object.keys(parity.tolerance).some((t) => ['maxAbs', 'meanAbs', 'p99Abs', 'maxRmse'].includes(t))) {
        for (const out of outputs) expect(parity.checks.some((c) => c.name.endsWith(`[${out}]`))).toBe(true);
      }
      // Run at the dataset's shape and at min/opt/max/mid of every dynamic dim.
      expect(parity.byShape!.length).toBeGreaterThanOrEqual(minShapes);
      if (p.precision === 'int8') {
        expect(parity.quantization?.passedSearch).toBe(true);
        console.log(`${example} int8 levers: ${parity.quantization!.reason}; tried ${parity.quantization!.trials.map((t) => `${t.reason.split(':')[0]} → ${t.passed ? 'pass' : t.failed.join(', ')}`).join(' | ')}`);
      }
    }
  });
});
