/**
 * A CPU worker process killed mid-step (with its toolkit child, as when a machine dies) and
 * started again: the step is retried on the restarted worker and the release still finishes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { startRelease } from '../../cli/release/start-release.ts';
import { statusQuery } from '../../lib/release.ts';
import { PROJECT_ROOT } from '../../activities/toolkit.ts';
import { fp32Only, makeModelRepo, startTemporal, startWorkers, tempDir } from './harness.ts';

let env: TestWorkflowEnvironment;
let control: Awaited<ReturnType<typeof startWorkers>>;
let home: string;
const children: ChildProcess[] = [];

/** A `modelship worker --queue cpu` process in its own process group. */
function spawnCpuWorker(): ChildProcess {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'cli/index.ts', '--address', env.address, 'worker', '--queue', 'cpu', '--worker-id', 'restart-host'],
    { cwd: PROJECT_ROOT, env: { ...process.env, MODELSHIP_HOME: home, MODELSHIP_ARTIFACTS: `${home}/artifacts` }, detached: true, stdio: 'ignore' },
  );
  children.push(child);
  return child;
}

function killGroup(child: ChildProcess): void {
  try {
    process.kill(-child.pid!, 'SIGKILL');
  } catch {
    // already gone
  }
}

beforeAll(async () => {
  env = await startTemporal();
  home = await tempDir();
  control = await startWorkers(env, home, { cpu: false });
});

afterAll(async () => {
  children.forEach(killGroup);
  await control?.stop();
  await env?.teardown();
});

it('finishes after the worker running parity is killed and restarted', async () => {
  const repo = await makeModelRepo(await tempDir(), { tag: 'v2.0.0', editManifest: fp32Only });
  const first = spawnCpuWorker();
  const r = await startRelease(env.client, { repo, tag: 'v2.0.0', rollout: false });

  // Wait until parity is running on the worker, then kill the worker and everything it started.
  const deadline = Date.now() + 180_000;
  for (;;) {
    const status = await r.handle.query(statusQuery).catch(() => undefined);
    if (status?.steps.some((s) => s.step === 'parity' && s.state === 'running')) break;
    if (Date.now() > deadline) throw new Error(`parity never started: ${JSON.stringify(status?.steps)}`);
    await sleep(100);
  }
  killGroup(first);
  await sleep(2000);
  spawnCpuWorker();

  const status = await r.handle.result();
  expect(status.stage).toBe('packaged');
  expect(status.steps.find((s) => s.step === 'parity')).toMatchObject({ state: 'done', verdict: 'pass' });
  // The target's history shows that parity needed a second attempt: the first died with the worker.
  const childHistory = await env.client.workflow.getHandle('release/digits/v2.0.0/target/cpu').fetchHistory();
  const retried = (childHistory.events ?? []).filter((e) => (e.activityTaskStartedEventAttributes?.attempt ?? 1) > 1);
  expect(retried.length).toBe(1);
});
