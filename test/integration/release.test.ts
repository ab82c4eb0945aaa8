/**
 * The release on the real Temporal dev server, real git, real PyTorch, real ONNX Runtime: the happy
 * path to packages, a gate that stops the release with its verdict, a duplicate start, and a
 * target queue with no worker.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { startRelease } from '../../cli/release/start-release.ts';
import { ManifestError, UserError } from '../../lib/errors.ts';
import { statusQuery } from '../../lib/release.ts';
import { fp32Only, git, makeModelRepo, startWorkers, startTemporal, tempDir } from './harness.ts';

let env: TestWorkflowEnvironment;
let home: string;
let workers: Awaited<ReturnType<typeof startWorkers>>;

beforeAll(async () => {
  env = await startTemporal();
  home = await tempDir();
  workers = await startWorkers(env, home);
});

afterAll(async () => {
  await workers?.stop();
  await env?.teardown();
});

describe('release', () => {
  it('carries a tag to packaged fp32 and int8 engines with metadata, parity and bench', async () => {
    const repo = await makeModelRepo(await tempDir());
    const r = await startRelease(env.client, { repo, tag: 'v1.0.0', rollout: false });
    expect(r.workflowId).toBe('release/digits/v1.0.0');
    expect(r.started).toBe(true);
    const status = await r.handle.result();

    expect(status.stage).toBe('packaged');
    expect(status.packages.map((p) => `${p.target}-${p.precision}`).sort()).toEqual(['cpu-fp32', 'cpu-int8']);
    const stepNames = status.steps.map((s) => [s.step, s.precision].filter(Boolean).join('/'));
    expect(stepNames).toEqual(expect.arrayContaining(['resolve', 'export', 'build/fp32', 'parity/fp32', 'bench/fp32', 'build/int8', 'parity/int8', 'bench/int8', 'package']));
    expect(status.steps.every((s) => s.state === 'done' && typeof s.durationMs === 'number')).toBe(true);

    for (const p of status.packages) {
      const dir = fileURLToPath(p.uri);
      const metadata = JSON.parse(await readFile(join(dir, 'metadata.json'), 'utf8'));
      expect(metadata).toMatchObject({ model_id: `digits@${status.commit!.slice(0, 12)}`, precision: p.precision, backend: 'onnxruntime-cpu', onnx_opset: 17 });
      expect(metadata.git).toEqual({ commit: status.commit, tag: 'v1.0.0' });
      expect(metadata.profile.input).toEqual({ min: [1, 1, 8, 8], opt: [32, 1, 8, 8], max: [256, 1, 8, 8] });
      expect(Object.keys(metadata.runtime)).toEqual(expect.arrayContaining(['torch', 'onnx', 'onnxruntime']));
      // Every file in the package is listed with the digest of its bytes.
      for (const [name, digest] of Object.entries(metadata.files as Record<string, { bytes: number }>)) {
        expect((await readFile(join(dir, name))).length).toBe(digest.bytes);
      }
      const parity = JSON.parse(await readFile(join(dir, 'parity.json'), 'utf8'));
      expect(parity.samples).toBeGreaterThanOrEqual(1000);
      expect(parity.verdict).toBe('pass');
      expect(parity.precision).toBe(p.precision);
      const bench = JSON.parse(await readFile(join(dir, 'bench.json'), 'utf8'));
      expect(bench.shapes.length).toBeGreaterThan(0);
      expect(bench.shapes[0].latencyMs.p99).toBeGreaterThanOrEqual(bench.shapes[0].latencyMs.p50);
    }

    // Search attributes let people find it in the UI.
    const description = await r.handle.describe();
    expect(description.searchAttributes.ReleaseStage).toEqual(['packaged']);
    expect(description.searchAttributes.ModelName).toEqual(['digits']);

    // A second start of the same tag returns the finished release, never a second one.
    const again = await startRelease(env.client, { repo, tag: 'v1.0.0', rollout: false });
    expect(again.started).toBe(false);
    expect((await again.handle.describe()).runId).toBe(description.runId);
  });

  it('stops at the metrics gate with a clear verdict', async () => {
    const repo = await makeModelRepo(await tempDir(), {
      tag: 'v0.9.0',
      editManifest: (y) => fp32Only(y).replace('val_accuracy >= 0.90', 'val_accuracy >= 0.9999'),
    });
    const r = await startRelease(env.client, { repo, tag: 'v0.9.0', rollout: false });
    const err = await r.handle.result().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const status = await r.handle.query(statusQuery);
    expect(status.stage).toBe('failed');
    expect(status.failure).toMatchObject({ step: 'resolve', type: 'GateFailed' });
    expect(status.failure!.message).toMatch(/val_accuracy = 0\.\d+ is not >= 0\.9999/);
    expect(status.steps.map((s) => s.step)).toEqual(['resolve']);
  });

  it('stops at the parity gate and names the tolerance that failed', async () => {
    const repo = await makeModelRepo(await tempDir(), {
      tag: 'v0.8.0',
      editManifest: (y) => fp32Only(y).replace('fp32: { maxAbs: 1.0e-4, minTop1Agreement: 0.99 }', 'fp32: { maxAbs: 1.0e-12 }'),
    });
    const r = await startRelease(env.client, { repo, tag: 'v0.8.0', rollout: false });
    await expect(r.handle.result()).rejects.toBeInstanceOf(WorkflowFailedError);
    const status = await r.handle.query(statusQuery);
    expect(status.failure).toMatchObject({ step: 'parity', type: 'GateFailed' });
    const parityStep = status.steps.find((s) => s.step === 'parity');
    expect(parityStep).toMatchObject({ verdict: 'fail', state: 'done' });
    expect(parityStep!.summary).toContain('failed: maxAbs[logits]');
    expect(status.packages).toEqual([]);
    // The gate's answer comes from the tagged content: a retry would give it again, so it is refused.
    const retry = await startRelease(env.client, { repo, tag: 'v0.8.0', rollout: false }, { retry: true }).catch((e: unknown) => e);
    expect(retry).toBeInstanceOf(UserError);
    expect((retry as Error).message).toContain('failed because of the tagged content (GateFailed');
  });

  it('refuses a tag whose files or data do not fit the manifest before anything starts, naming the field', async () => {
    const missing = await makeModelRepo(await tempDir(), {
      tag: 'v0.5.0',
      editManifest: (y) => y.replace('checkpoint: artifacts/model_best.pt', 'checkpoint: artifacts/best.pt'),
    });
    const err = await startRelease(env.client, { repo: missing, tag: 'v0.5.0', rollout: false }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ManifestError);
    expect((err as ManifestError).issues).toEqual([
      { field: 'artifact.checkpoint', message: 'the checkpoint artifacts/best.pt is not committed at v0.5.0; commit it (train.py writes it) and tag a new commit' },
    ]);
    const misnamed = await makeModelRepo(await tempDir(), { tag: 'v0.5.1', editManifest: (y) => y.replace('arrays: { input: x }\n  labels: y\n  samples: 256', 'arrays: { input: pixels }\n  labels: y\n  samples: 256') });
    const err2 = await startRelease(env.client, { repo: misnamed, tag: 'v0.5.1', rollout: false }).catch((e: unknown) => e);
    expect(err2).toBeInstanceOf(ManifestError);
    expect((err2 as ManifestError).issues[0]!.field).toBe('calibration.arrays.input');
    expect((err2 as ManifestError).issues[0]!.message).toMatch(/^data\/heldout\.npz has no array 'pixels' for input 'input' \(it has: .*x.*\)/);
    for (const tag of ['v0.5.0', 'v0.5.1']) await expect(env.client.workflow.getHandle(`release/digits/${tag}`).describe()).rejects.toThrow();
  });

  it('refuses a wrong manifest before anything starts, naming the field', async () => {
    const repo = await makeModelRepo(await tempDir(), {
      tag: 'v0.7.0',
      editManifest: (y) => y.replace('max: 256', 'max: 16'),
    });
    const err = await startRelease(env.client, { repo, tag: 'v0.7.0', rollout: false }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ManifestError);
    expect((err as Error).message).toContain('inputs[0].dims[0].max: max 16 is below opt 32');
    await expect(env.client.workflow.getHandle('release/digits/v0.7.0').describe()).rejects.toThrow();
  });

  it('says so when no worker polls a target queue', async () => {
    const repo = await makeModelRepo(await tempDir(), {
      tag: 'v0.6.0',
      editManifest: (y) => fp32Only(y).replace('backend: onnxruntime-cpu', 'backend: onnxruntime-cpu\n    taskQueue: cpu-nobody-polls'),
    });
    const r = await startRelease(env.client, { repo, tag: 'v0.6.0', noWorkerTimeoutSeconds: 3, rollout: false });
    await expect(r.handle.result()).rejects.toBeInstanceOf(WorkflowFailedError);
    const status = await r.handle.query(statusQuery);
    expect(status.failure).toMatchObject({ step: 'build', type: 'NoWorker' });
    expect(status.failure!.message).toContain('no worker for cpu-nobody-polls');

    // A failure outside the tagged content may be retried: a new run of the same release.
    const first = (await r.handle.describe()).runId;
    const retried = await startRelease(env.client, { repo, tag: 'v0.6.0', noWorkerTimeoutSeconds: 3, rollout: false }, { retry: true });
    expect(retried.started).toBe(true);
    expect((await retried.handle.describe()).runId).not.toBe(first);
    await expect(retried.handle.result()).rejects.toBeInstanceOf(WorkflowFailedError);

    // Moving the tag to another commit is refused: a tag names one release.
    await git(repo, 'commit', '--quiet', '--allow-empty', '-m', 'moved');
    await git(repo, 'tag', '-f', 'v0.6.0');
    const moved = await startRelease(env.client, { repo, tag: 'v0.6.0', rollout: false }).catch((e: unknown) => e);
    expect(moved).toBeInstanceOf(UserError);
    expect((moved as UserError).message).toMatch(/tag v0\.6\.0 of digits now points to [0-9a-f]{12}, but its release \(release\/digits\/v0\.6\.0\) was made from [0-9a-f]{12}/);
    expect((moved as UserError).hint).toContain('v0.6.1');
  });
});
