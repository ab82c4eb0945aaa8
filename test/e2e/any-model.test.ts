/**
 * Models users bring, released and rolled out by the real workflow with no hand edits, all served by
 * one runtime: a MobileNetV3-small, a transformer text classifier with two int64 inputs, a regression
 * model with two inputs and two outputs, and a spatial-transformer CNN (F.affine_grid +
 * F.grid_sample). Each packages fp32 and int8 engines whose parity passed per output and across its
 * dynamic shapes (int8 by the automatic levers where the default quantization misses the tolerance),
 * and is promoted; then a retrained transformer goes through shadow and canary under live traffic
 * while the other models keep serving.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTraffic } from '../../cli/demo/traffic.ts';
import { startRelease } from '../../cli/release/start-release.ts';
import type { ParityReport } from '../../lib/toolkit-contract.ts';
import { makeModelRepo, tempDir } from '../integration/harness.ts';
import { approveAll, startRolloutStack, type RolloutStack } from './rollout-driver.ts';

let stack: RolloutStack;
let traffic: Awaited<ReturnType<typeof startTraffic>> | undefined;
const repos = new Map<string, string>();

beforeAll(async () => {
  stack = await startRolloutStack(); // the runtime serves any model
}, 300_000);

afterAll(async () => {
  await traffic?.stop();
  await stack?.stop();
});

const EXAMPLES: { example: string; outputs: string[] }[] = [
  { example: 'gratings-mobilenet', outputs: ['logits'] },
  { example: 'text-transformer', outputs: ['logits'] },
  { example: 'two-head-regression', outputs: ['prediction', 'log_variance'] },
  { example: 'warp-cnn', outputs: ['logits'] },
];

describe('any model', () => {
  it.each(EXAMPLES)('releases $example (fp32 and int8) and promotes it on the shared runtime', async ({ example, outputs }) => {
    const repo = await makeModelRepo(await tempDir(), { example });
    repos.set(example, repo);
    const r = await startRelease(stack.env.client, { repo, tag: 'v1.0.0' });
    const status = await approveAll(stack.env.client, r.workflowId, 'alice');
    expect(status.stage, JSON.stringify(status.failure ?? status.steps.filter((s) => s.state !== 'done'))).toBe('promoted');
    expect(status.packages.map((p) => p.precision).sort()).toEqual(['fp32', 'int8']);
    expect((await stack.admin.state(example)).variants.stable?.version).toBe('v1.0.0');

    for (const p of status.packages) {
      const parity = JSON.parse(await readFile(join(fileURLToPath(p.uri), 'parity.json'), 'utf8')) as ParityReport;
      expect(parity.verdict).toBe('pass');
      // Reported per output; where the tolerance bounds element errors, gated per output too.
      expect(Object.keys(parity.stats.outputs ?? {})).toEqual(outputs);
      if (Object.keys(parity.tolerance).some((t) => ['maxAbs', 'meanAbs', 'p99Abs', 'maxRmse'].includes(t))) {
        for (const out of outputs) expect(parity.checks.some((c) => c.name.endsWith(`[${out}]`))).toBe(true);
      }
      // Run at the dataset's shape and at min/opt/max/mid of every dynamic dim.
      expect(parity.byShape!.length).toBeGreaterThanOrEqual(4);
      if (p.precision === 'int8') {
        expect(parity.quantization?.passedSearch).toBe(true);
        const tried = parity.quantization!.trials.map((t) => `${t.reason.split(':')[0]} → ${t.passed ? 'pass' : t.failed.join(', ')}`);
        const after = Object.entries(parity.stats.outputs ?? {}).map(([o, st]) => `${o} meanAbs ${st.meanAbs.toPrecision(3)}`).join(', ');
        const top1 = parity.stats.top1 ? `top-1 ${(parity.stats.top1.rate * 100).toFixed(2)}%, ` : '';
        console.log(`${example} int8: kept in float [${parity.quantization!.keptInFloat.join(', ')}]; tried ${tried.join(' | ')}; parity after: ${top1}${after}`);
      }
    }
  });

  it('rolls a retrained transformer out through shadow and canary while the other models keep serving', async () => {
    const repo = repos.get('text-transformer')!;
    traffic = await startTraffic({ url: stack.runtime.url, model: 'text-transformer', data: join(repo, 'data', 'heldout.npz'), rate: 60, log: join(stack.home, 'traffic.log') });
    await makeModelRepo(join(repo, '..'), { example: 'text-transformer', tag: 'v1.1.0', trainArgs: ['--seed', '7'] });
    const r = await startRelease(stack.env.client, { repo, tag: 'v1.1.0' });
    const status = await approveAll(stack.env.client, r.workflowId, 'bob');
    expect(status.stage, JSON.stringify(status.rollout?.decisions.at(-1))).toBe('promoted');
    const phases = status.rollout!.decisions.map((d) => d.phase);
    expect(phases).toEqual(expect.arrayContaining(['shadow', 'canary']));
    expect((await stack.admin.state('text-transformer')).variants.stable?.version).toBe('v1.1.0');
    for (const other of ['gratings-mobilenet', 'two-head-regression', 'warp-cnn']) {
      expect((await stack.admin.state(other)).variants.stable?.version).toBe('v1.0.0');
    }
  });
});
