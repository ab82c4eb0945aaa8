/**
 * The TensorRT backend on the real Temporal dev server, with a GPU-labelled worker whose detection
 * is overridden (sm90, TensorRT 10.16.1, one GPU) and whose trtexec is the TEST STAND-IN in
 * test/fixtures/bin/ (it replays recorded real trtexec logs; nothing here runs TensorRT). Covers
 * routing to `gpu-<arch>`, NoWorker, the non-retryable unsupported-operator failure with its advice,
 * heartbeats from the trtexec log, the engine cache on the second build, and cancellation killing
 * trtexec. Parity cannot run without TensorRT: it stops with a clear BadInput, which is asserted.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure, defaultPayloadConverter } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { startRelease } from '../../../cli/release/start-release.ts';
import { statusQuery, type ReleaseStatus } from '../../../lib/release.ts';
import type { GpuHost } from '../../../activities/tensorrt/host.ts';
import { createGpuWorkers } from '../../../workers/gpu-worker.ts';
import { git, makeModelRepo, startTemporal, startWorkers, tempDir, workflowBundle } from '../harness.ts';

const STANDIN = fileURLToPath(new URL('../../fixtures/bin/trtexec', import.meta.url));
const H100: GpuHost = {
  arch: 'sm90',
  computeCapability: '9.0',
  tensorrt: { major: 10, minor: 16, patch: 1 },
  tensorrtSource: 'override',
  cuda: '12.9',
  driver: '575.57.08',
  devices: [{ index: 0, name: 'NVIDIA H100 PCIe', computeCapability: '9.0', memoryBytes: 81_081 * 2 ** 20, freeBytes: null }],
  nvml: false,
};

/** The digits manifest with its one target on TensorRT. */
const onTensorRT = (gpu: string) => (yaml: string) =>
  yaml
    .replace('  - name: cpu\n    backend: onnxruntime-cpu\n    precisions: [fp32, int8]', `  - name: h100\n    backend: tensorrt\n    gpu: ${gpu}\n    precisions: [fp32]`)
    .replace('serve: { target: cpu, precision: int8 }', 'serve: { target: h100, precision: fp32 }');

let env: TestWorkflowEnvironment;
let control: Awaited<ReturnType<typeof startWorkers>>;
let gpuWorkers: Worker[];
let gpuRunning: Promise<unknown>;
let repo: string;
let runsFile: string;

beforeAll(async () => {
  env = await startTemporal();
  const home = await tempDir();
  control = await startWorkers(env, home, { cpu: false });
  await workflowBundle();
  runsFile = join(await tempDir(), 'trtexec-runs.txt');
  process.env.TRT_STANDIN_RUNS = runsFile;
  const gpu = await createGpuWorkers({ connection: env.nativeConnection, home: await tempDir(), artifacts: join(home, 'artifacts'), workerId: 'gpu-test', trtexecPath: STANDIN, gpu: H100 });
  expect(gpu.queues).toEqual(['gpu-sm90-trt10.16', 'gpu-sm90']);
  gpuWorkers = gpu.workers;
  gpuRunning = Promise.all(gpuWorkers.map((w) => w.run()));
  repo = await makeModelRepo(await tempDir(), { editManifest: onTensorRT('sm90') });
  // More tags on the same commit: the same exported ONNX, so the same engine cache key.
  for (const tag of ['v1.1.0', 'v1.1.1', 'v1.2.0']) await git(repo, 'tag', tag);
});

afterAll(async () => {
  delete process.env.TRT_STANDIN_MODE;
  delete process.env.TRT_STANDIN_RUNS;
  for (const w of gpuWorkers ?? []) if (w.getState() === 'RUNNING') w.shutdown();
  await gpuRunning;
  await control?.stop();
  await env?.teardown();
});

async function runs(): Promise<string[]> {
  return (await readFile(runsFile, 'utf8').catch(() => '')).split('\n').filter(Boolean);
}

function chain(err: unknown): unknown[] {
  const out: unknown[] = [];
  for (let e = err as { cause?: unknown } | undefined; e; e = e.cause as typeof e) out.push(e);
  return out;
}

async function failedRelease(tag: string): Promise<{ status: ReleaseStatus; err: unknown }> {
  const r = await startRelease(env.client, { repo, tag, rollout: false });
  const err = await r.handle.result().catch((e: unknown) => e);
  expect(err).toBeInstanceOf(WorkflowFailedError);
  return { status: await r.handle.query(statusQuery), err };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('GPU worker with the trtexec stand-in', () => {
  it('fails an unsupported operator once, not retried, with the advice', async () => {
    process.env.TRT_STANDIN_MODE = 'plugin-not-found';
    const { status, err } = await failedRelease('v1.0.0');
    expect(status.failure).toMatchObject({ step: 'build', type: 'BadInput' });
    expect(status.failure!.message).toContain('unsupported-operator');
    expect(status.failure!.message).toContain('no TensorRT importer and no plugin provides it');
    const app = chain(err).find((e) => e instanceof ApplicationFailure) as ApplicationFailure;
    expect(app.nonRetryable).toBe(true);
    // Routed to the GPU worker, and trtexec ran exactly once (no retry).
    expect((await runs()).filter((l) => l.includes(' plugin-not-found '))).toHaveLength(1);
    const build = status.steps.find((s) => s.step === 'build');
    expect(build).toMatchObject({ state: 'failed', target: 'h100', precision: 'fp32' });
  });

  it('heartbeats trtexec progress and kills trtexec when the release is cancelled', async () => {
    process.env.TRT_STANDIN_MODE = 'slow';
    const before = (await runs()).length;
    const r = await startRelease(env.client, { repo, tag: 'v1.2.0', rollout: false });
    let pid: number | undefined;
    for (let i = 0; i < 600 && pid === undefined; i++) {
      const line = (await runs()).slice(before).find((l) => l.includes(' slow '));
      if (line) pid = Number(line.split(' ')[0]);
      else await new Promise((res) => setTimeout(res, 200));
    }
    expect(pid).toBeDefined();
    expect(alive(pid!)).toBe(true);

    // The UI shows the build's progress, read from the trtexec log.
    const child = env.client.workflow.getHandle(`${r.workflowId}/target/h100`);
    let message = '';
    for (let i = 0; i < 60 && !/parsing|parsed|builder ready|trtexec started/.test(message); i++) {
      const pending = (await child.describe()).raw.pendingActivities ?? [];
      const payload = pending[0]?.heartbeatDetails?.payloads?.[0];
      if (payload) message = (defaultPayloadConverter.fromPayload(payload) as { message?: string }).message ?? '';
      if (!/parsing|parsed|builder ready|trtexec started/.test(message)) await new Promise((res) => setTimeout(res, 500));
    }
    expect(message).toMatch(/parsing|parsed|builder ready|trtexec started/);

    await r.handle.cancel();
    for (let i = 0; i < 120 && alive(pid!); i++) await new Promise((res) => setTimeout(res, 500));
    expect(alive(pid!)).toBe(false);
    await expect(r.handle.result()).rejects.toBeInstanceOf(WorkflowFailedError);
  });

  it('builds once, then serves the second build from the engine cache; parity says TensorRT is missing', async () => {
    process.env.TRT_STANDIN_MODE = 'success';
    const first = await failedRelease('v1.1.0');
    const build1 = first.status.steps.find((s) => s.step === 'build')!;
    expect(build1).toMatchObject({ state: 'done' });
    expect(build1.summary).toMatch(/cache miss \(stored [0-9a-f]{64}\) on gpu-test$/);
    const key = /stored ([0-9a-f]{64})/.exec(build1.summary!)![1]!;
    const parity = first.status.steps.find((s) => s.step === 'parity')!;
    expect(parity.state).toBe('failed');
    expect(parity.summary).toContain('tensorrt is not installed on this worker');
    expect(first.status.failure).toMatchObject({ type: 'BadInput' });

    const builds = (await runs()).filter((l) => l.includes(' success ') && l.includes('--saveEngine')).length;
    const second = await failedRelease('v1.1.1');
    const build2 = second.status.steps.find((s) => s.step === 'build')!;
    expect(build2.summary).toContain(`cache hit ${key}`);
    expect((await runs()).filter((l) => l.includes(' success ') && l.includes('--saveEngine'))).toHaveLength(builds);
  });

  it('fails with NoWorker when no GPU worker has the architecture', async () => {
    const other = await makeModelRepo(await tempDir(), { tag: 'v0.5.0', editManifest: onTensorRT('sm80') });
    const r = await startRelease(env.client, { repo: other, tag: 'v0.5.0', noWorkerTimeoutSeconds: 3, rollout: false });
    await expect(r.handle.result()).rejects.toBeInstanceOf(WorkflowFailedError);
    const status = await r.handle.query(statusQuery);
    expect(status.failure).toMatchObject({ step: 'build', type: 'NoWorker' });
    expect(status.failure!.message).toContain('no worker for gpu-sm80');
    expect(status.failure!.message).toContain('modelship worker --gpu');
  });
});
