/**
 * A rollout whose history grows past what the server allows a run: the dev server suggests
 * continue-as-new after {@link SUGGEST_AFTER} events (production's default is 4096 events or
 * 4 MiB), so the shadow bake, the canary bakes and a wait for approval flooded with refused
 * signals each go on in a new run. The release still promotes; decision records are numbered once
 * and kept once; the approval wait keeps its start (its timeout) across runs; every run replays.
 */
import { readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Worker } from '@temporalio/worker';
import type { Client } from '@temporalio/client';
import { startTraffic } from '../../cli/demo/traffic.ts';
import { startRelease } from '../../cli/release/start-release.ts';
import { approveSignal, rolloutStatusQuery, rolloutWorkflowId, type RolloutStatus } from '../../lib/rollout.ts';
import { MIN_EVENTS_PER_RUN } from '../../workflows/rollout/continue-as-new.ts';
import { tempDir, workflowBundle } from '../integration/harness.ts';
import { approveAll, explain, promoteFirstDigits, recordHistories, startRolloutStack, tagDigits, waitRollout, type RolloutStack } from './rollout-driver.ts';

/** Events after which the dev server suggests continue-as-new in this test. */
const SUGGEST_AFTER = 60;
const REFUSED_SIGNALS = 30;

let stack: RolloutStack;
let traffic: Awaited<ReturnType<typeof startTraffic>> | undefined;

beforeAll(async () => {
  expect(SUGGEST_AFTER).toBeGreaterThan(MIN_EVENTS_PER_RUN);
  stack = await startRolloutStack({ dynamicConfig: { 'limit.historyCount.suggestContinueAsNew': SUGGEST_AFTER } });
}, 300_000);

afterAll(async () => {
  await traffic?.stop();
  await stack?.stop();
});

/** The runs of a workflow, oldest first. */
async function runsOf(client: Client, workflowId: string): Promise<{ runId: string; status: string }[]> {
  const runs: { runId: string; status: string; start: number }[] = [];
  for await (const w of client.workflow.list({ query: `WorkflowId = "${workflowId}"` })) runs.push({ runId: w.runId, status: w.status.name, start: w.startTime.getTime() });
  return runs.sort((a, b) => a.start - b.start);
}

it('continues a long rollout as new in its bakes and in a flooded approval wait, and promotes', async () => {
  const { env } = stack;
  const repo = join(await tempDir(), 'digits');
  traffic = await promoteFirstDigits(stack, repo, 60);

  await tagDigits(repo, 'v1.1.0', { trainArgs: ['--seed', '7'] });
  const r = await startRelease(env.client, { repo, tag: 'v1.1.0' });
  const rolloutId = rolloutWorkflowId(r.workflowId);
  const rollout = env.client.workflow.getHandle(rolloutId);

  // The shadow bake outgrew a run before the first canary step asked for approval.
  const waiting = await waitRollout(env.client, r.workflowId, (s) => s.awaiting?.step === 1, 180_000);
  expect(waiting.runs ?? 1).toBeGreaterThan(1);
  const runsBeforeFlood = waiting.runs!;

  // A flood of refused signals while the step waits: the wait goes on in a new run, from when it began.
  for (let i = 0; i < REFUSED_SIGNALS; i++) await rollout.signal(approveSignal, { by: `mallory-${i}` });
  const flooded = await waitRollout(env.client, r.workflowId, (s) => (s.runs ?? 1) > runsBeforeFlood && s.decisions.filter((d) => d.kind === 'refused-signal').length === REFUSED_SIGNALS, 60_000);
  expect(flooded.awaiting).toEqual(waiting.awaiting);

  const status = await approveAll(env.client, r.workflowId, 'bob');
  const outcome = status.rollout!;
  expect(status.stage, explain(status)).toBe('promoted');

  // Every run but the last continued as new; the last one returned the carried status.
  let runs = await runsOf(env.client, rolloutId);
  for (let i = 0; runs.length !== outcome.runs && i < 40; i++) {
    await sleep(250); // visibility catches up
    runs = await runsOf(env.client, rolloutId);
  }
  expect(runs.map((x) => x.status)).toEqual([...Array(runs.length - 1).fill('CONTINUED_AS_NEW'), 'COMPLETED']);
  expect(runs.length).toBe(outcome.runs);
  expect(outcome.runs).toBeGreaterThanOrEqual(4); // shadow bake, flooded approval wait, canary bakes

  // Records numbered once across runs, none lost: the first run's fleet check is still first.
  expect(outcome.decisions.map((d) => d.seq)).toEqual(outcome.decisions.map((_, i) => i + 1));
  expect(outcome.decisions[0]!.kind).toBe('fleet-check');
  expect(outcome.decisions.filter((d) => d.kind === 'approval').map((d) => [d.step, d.by])).toEqual([
    [1, 'bob'],
    [2, 'bob'],
  ]);
  expect(outcome.decisions.filter((d) => d.kind === 'refused-signal')).toHaveLength(REFUSED_SIGNALS);
  expect(outcome.decisions.some((d) => d.kind === 'shadow-gate' && d.verdict === 'pass')).toBe(true);
  // Older analysis records were carried compacted: their checks' numbers, not the whole result.
  const compacted = outcome.decisions.filter((d) => (d.detail as { compacted?: boolean } | undefined)?.compacted);
  expect(compacted.length).toBeGreaterThan(0);
  expect((compacted[0]!.detail as { checks: { statistic: unknown }[] }).checks[0]!.statistic).toBeDefined();

  // Kept once each in the artifact store (refused signals are not kept), whatever the runs.
  const decisionsDir = dirname(fileURLToPath(outcome.decisions.find((d) => d.kind === 'promotion')!.uri!));
  const kept = (await readdir(decisionsDir)).sort();
  const keptSeqs = kept.map((f) => Number(f.slice(0, 3)));
  expect(new Set(keptSeqs).size).toBe(kept.length);
  expect(keptSeqs).toEqual(outcome.decisions.filter((d) => d.kind !== 'refused-signal').map((d) => d.seq));

  // The status query answers from the last run with everything carried.
  const queried: RolloutStatus = await rollout.query(rolloutStatusQuery);
  expect(queried.decisions).toHaveLength(outcome.decisions.length);

  // Every run replays against today's code.
  const bundle = await workflowBundle();
  for (const run of runs) {
    const history = await env.client.workflow.getHandle(rolloutId, run.runId).fetchHistory();
    await Worker.runReplayHistory({ workflowBundle: bundle, replayName: rolloutId }, history, rolloutId);
  }
  await recordHistories(
    env.client,
    runs.map((run, i) => ({ file: `rollout-digits-v1.1.0-continued-as-new-run-${i + 1}.json`, workflowId: rolloutId, runId: run.runId })),
  );
  console.log(`v1.1.0 promoted across ${runs.length} runs of its rollout; ${outcome.decisions.length} decision records, ${compacted.length} carried compacted`);
}, 900_000);
