/**
 * The whole release (steps 1–6) with `s3://` as its artifact store, on the real Temporal dev server
 * and a real S3-protocol server; and the same with the S3 server down for a while mid-release:
 * the steps retry and the release finishes.
 */
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { openArtifactStore } from '../../../activities/store/open-store.ts';
import { startRelease } from '../../../cli/release/start-release.ts';
import { statusQuery } from '../../../lib/release.ts';
import { fp32Only, makeModelRepo, startTemporal, startWorkers, tempDir } from '../harness.ts';
import { isolateAwsEnv, startS3Server, type S3TestServer } from './s3-server.ts';

let env: TestWorkflowEnvironment;
let s3: S3TestServer;
let workers: Awaited<ReturnType<typeof startWorkers>>;
const artifacts = () => `s3://${s3.bucket}/modelship`;

beforeAll(async () => {
  isolateAwsEnv();
  s3 = await startS3Server();
  Object.assign(process.env, s3.env());
  env = await startTemporal();
  workers = await startWorkers(env, await tempDir(), { artifacts: artifacts() });
}, 300_000);

afterAll(async () => {
  await workers?.stop();
  await env?.teardown();
  await s3?.dispose();
});

it('packages a release into S3, every file verifiable from its metadata', async () => {
  const repo = await makeModelRepo(await tempDir(), { tag: 'v3.0.0' });
  const r = await startRelease(env.client, { repo, tag: 'v3.0.0', rollout: false });
  const status = await r.handle.result();
  expect(status.stage).toBe('packaged');
  expect(status.packages.map((p) => p.uri)).toEqual([`${artifacts()}/packages/digits/v3.0.0/cpu-fp32`, `${artifacts()}/packages/digits/v3.0.0/cpu-int8`]);

  const store = openArtifactStore(artifacts());
  const local = await tempDir();
  for (const p of status.packages) {
    await store.getFile(p.metadata, `${local}/${p.precision}-metadata.json`);
    const metadata = JSON.parse(await readFile(`${local}/${p.precision}-metadata.json`, 'utf8'));
    for (const [name, digest] of Object.entries(metadata.files as Record<string, { sha256: string; bytes: number }>)) {
      // getFile verifies the sha256 and size before the file appears.
      await store.getFile({ uri: `${p.uri}/${name}`, ...digest }, `${local}/${p.precision}/${name}`);
    }
  }
});

it('waits out an S3 outage mid-release and finishes', async () => {
  const repo = await makeModelRepo(await tempDir(), { tag: 'v3.1.0', editManifest: fp32Only });
  const r = await startRelease(env.client, { repo, tag: 'v3.1.0', rollout: false });
  // Take the store away while the target's steps run, bring it back 8 s later.
  for (const deadline = Date.now() + 120_000; ; ) {
    const s = await r.handle.query(statusQuery).catch(() => undefined);
    if (s?.steps.some((x) => x.step === 'build' && x.state === 'running')) break;
    if (Date.now() > deadline) throw new Error('build never started');
    await sleep(100);
  }
  await s3.stop();
  await sleep(8000);
  await s3.start();
  const status = await r.handle.result();
  expect(status.stage).toBe('packaged');
  expect(status.packages).toHaveLength(1);
});
