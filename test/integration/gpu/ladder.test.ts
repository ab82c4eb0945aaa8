/**
 * The precision ladder on the real dev server. TensorRT cannot run here, so the ladder is driven on
 * the onnxruntime-cpu backend (the workflow logic is the same): int8 is given an impossible
 * tolerance, fails parity, and the target falls back to fp32 and says why.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { startRelease } from '../../../cli/release/start-release.ts';
import { makeModelRepo, startTemporal, startWorkers, tempDir } from '../harness.ts';

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

it('falls back from int8 to fp32 when int8 fails parity, and records why', async () => {
  const repo = await makeModelRepo(await tempDir(), {
    tag: 'v2.0.0',
    editManifest: (y) =>
      y
        .replace('precisions: [fp32, int8]', 'precisions: [fp32, int8]\n    ladder: [int8, fp32]')
        .replace('int8: { minTop1Agreement: 0.95, minTop5Agreement: 0.95 }', 'int8: { maxAbs: 1.0e-12 }')
        .replace('serve: { target: cpu, precision: int8 }', 'serve: { target: cpu, precision: fp32 }'),
  });
  const r = await startRelease(env.client, { repo, tag: 'v2.0.0', rollout: false });
  const status = await r.handle.result();
  expect(status.stage).toBe('packaged');
  expect(status.packages.map((p) => `${p.target}-${p.precision}`)).toEqual(['cpu-fp32']);
  const steps = status.steps.map((s) => `${s.step}/${s.precision}:${s.verdict ?? s.state}`);
  expect(steps).toEqual(expect.arrayContaining(['build/int8:done', 'parity/int8:fail', 'build/fp32:done', 'parity/fp32:pass', 'bench/fp32:done']));
  expect(steps).not.toContain('bench/int8:done');
  const history = await r.handle.fetchHistory();
  const childId = `${r.workflowId}/target/cpu`;
  expect(history.events?.some((e) => e.childWorkflowExecutionCompletedEventAttributes?.workflowExecution?.workflowId === childId)).toBe(true);
  const child = await env.client.workflow.getHandle(childId).result();
  expect(child.engines).toHaveLength(1);
  expect(child.engines[0]!.summary).toMatch(/int8 failed parity \(maxAbs\[logits\] [\d.e-]+ > 1e-12\), fell back to fp32$/);
});
