/**
 * The whole release on the real Temporal dev server, the real serving runtime and a real
 * Prometheus, with live traffic: first release and promotion, shadow → canary → promotion with
 * approvals, a bad candidate rolled back by the analysis, a manual rollback mid-canary, an approver
 * refused by the validator, an approval timeout, a canary step starved of traffic until maxBake,
 * malformed input, and a release cancelled mid-canary (the rollout compensates before it ends).
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkflowFailedError, WorkflowUpdateFailedError } from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import { RuntimeAdminClient } from '../../activities/runtime/admin-client.ts';
import { startTraffic } from '../../cli/demo/traffic.ts';
import { startRelease } from '../../cli/release/start-release.ts';
import { UserError } from '../../lib/errors.ts';
import {
  approveSignal,
  approveUpdate,
  MAX_REFUSED_SIGNAL_RECORDS,
  rejectUpdate,
  rollbackUpdate,
  rolloutWorkflowId,
} from '../../lib/rollout.ts';
import { statusQuery, type ReleaseStatus } from '../../lib/release.ts';
import { MALFORMED } from '../fixtures/malformed-payloads.ts';
import { tempDir } from '../integration/harness.ts';
import { approveAll, explain, recordHistories, startRolloutStack, tagDigits, waitRollout, type DigitsTagOptions, type RolloutStack } from './rollout-driver.ts';

let stack: RolloutStack;
let env: RolloutStack['env'];
let home: string;
let repo: string;
let runtime: RolloutStack['runtime'];
let traffic: Awaited<ReturnType<typeof startTraffic>> | undefined;
let admin: RolloutStack['admin'];

/** Trains and tags a version of the digits repo with the short plan (and optional tweaks). */
function tag(version: string, opts: DigitsTagOptions = {}): Promise<void> {
  return tagDigits(repo, version, opts);
}

/** Tags and releases `version`, approves canary step 1 as alice and waits until it serves 50%. */
async function releaseToFiftyPercent(version: string, seed: string) {
  await tag(version, { trainArgs: ['--seed', seed] });
  const r = await startRelease(env.client, { repo, tag: version });
  const rollout = env.client.workflow.getHandle(rolloutWorkflowId(r.workflowId));
  await waitRollout(env.client, r.workflowId, (s) => s.awaiting?.step === 1, 90_000);
  await rollout.executeUpdate(approveUpdate, { args: [{ by: 'alice', step: 1 }] });
  await waitRollout(env.client, r.workflowId, (s) => s.phase === 'canary' && s.weights.candidate === 50);
  return { r, rollout };
}

beforeAll(async () => {
  stack = await startRolloutStack();
  ({ env, home, runtime, admin } = stack);
  repo = join(await tempDir(), 'digits');
}, 300_000);

afterAll(async () => {
  // Every rollout path this file drives, kept for the replay test (MODELSHIP_RECORD_HISTORIES=1).
  const paths = [
    ['v1.0.0', 'first-release-approved'],
    ['v1.1.0', 'canary-promoted'],
    ['v1.2.0', 'shadow-rollback'],
    ['v1.3.0', 'manual-rollback'],
    ['v1.4.0', 'approval-timeout-rollback'],
    ['v1.5.0', 'escalated-signal-approval-then-rejection'],
    ['v1.6.0', 'starved-canary-maxbake-rollback'],
    ['v1.7.0', 'malformed-input-then-rollback'],
    ['v1.8.0', 'release-cancelled-mid-canary'],
  ] as const;
  if (env) {
    await recordHistories(env.client, [
      ...paths.map(([tag, path]) => ({ file: `rollout-digits-${tag}-${path}.json`, workflowId: rolloutWorkflowId(`release/digits/${tag}`) })),
      { file: 'release-digits-v1.1.0-canary-promoted-with-report.json', workflowId: 'release/digits/v1.1.0' },
    ]);
  }
  await traffic?.stop();
  await stack?.stop();
});

describe('rollout', () => {
  it('promotes the first release after one approval', async () => {
    await tag('v1.0.0');
    const r = await startRelease(env.client, { repo, tag: 'v1.0.0' });
    const waiting = await waitRollout(env.client, r.workflowId, (s) => s.awaiting !== undefined);
    expect(waiting.awaiting).toMatchObject({ step: 0, weight: 100 });

    // An approver not on the manifest's list is refused by the validator; nothing is recorded.
    const refused = await env.client.workflow
      .getHandle(rolloutWorkflowId(r.workflowId))
      .executeUpdate(approveUpdate, { args: [{ by: 'mallory' }] })
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(WorkflowUpdateFailedError);
    expect(String((refused as WorkflowUpdateFailedError).cause?.message)).toContain('mallory is not an approver of digits (approvers: alice, bob)');
    const wrongStep = await env.client.workflow
      .getHandle(rolloutWorkflowId(r.workflowId))
      .executeUpdate(approveUpdate, { args: [{ by: 'alice', step: 3 }] })
      .catch((e: unknown) => e);
    expect(String((wrongStep as WorkflowUpdateFailedError).cause?.message)).toContain('step 3 is not the one waiting');

    const status = await approveAll(env.client, r.workflowId, 'alice');
    expect(status.stage).toBe('promoted');
    expect(status.rollout?.decisions.filter((d) => d.kind === 'approval').map((d) => d.by)).toEqual(['alice']);
    expect((await admin.state()).variants.stable?.version).toBe('v1.0.0');
    // Decision records are kept beside the package.
    const verification = status.rollout!.decisions.find((d) => d.kind === 'verification')!;
    expect(JSON.parse(await readFile(new URL(verification.uri!), 'utf8'))).toMatchObject({ verdict: 'pass', kind: 'verification' });

    traffic = await startTraffic({ url: runtime.url, model: 'digits', data: join(repo, 'data', 'heldout.npz'), rate: 60, log: join(home, 'traffic.log') });
  });

  it('takes a retrained model through shadow and canary to promotion, with approvals', async () => {
    await tag('v1.1.0', { trainArgs: ['--seed', '7'] });
    const r = await startRelease(env.client, { repo, tag: 'v1.1.0' });
    const status = await approveAll(env.client, r.workflowId, 'bob');
    const kinds = status.rollout!.decisions.map((d) => `${d.kind}:${d.verdict}`);
    expect(status.stage, explain(status)).toBe('promoted');
    expect(kinds).toContain('shadow-gate:pass');
    expect(kinds.filter((k) => k === 'approval:approved')).toHaveLength(2);
    // Beside the name typed, the identity the server recorded for the client that sent each Update.
    const identity = env.client.options.identity;
    expect(identity).toMatch(/\S/);
    expect(status.rollout!.decisions.filter((d) => d.kind === 'approval').map((d) => d.clientIdentity)).toEqual([identity, identity]);
    expect(kinds).toContain('analysis:pass');
    const state = await admin.state();
    expect(state.variants.stable?.version).toBe('v1.1.0');
    expect(state.variants.candidate).toBeUndefined();
  });

  it('rolls a worse model back automatically while the stable keeps serving', async () => {
    await tag('v1.2.0', { trainArgs: ['--shuffle-labels'], acceptance: 'val_accuracy >= 0.05' });
    const r = await startRelease(env.client, { repo, tag: 'v1.2.0' });
    const status = (await r.handle.result()) as ReleaseStatus;
    expect(status.stage).toBe('rolled-back');
    const gate = status.rollout!.decisions.find((d) => d.kind === 'shadow-gate' && d.verdict === 'fail');
    expect(gate).toBeDefined();
    expect((gate!.detail as { checks: { check: string; verdict: string }[] }).checks).toContainEqual(expect.objectContaining({ check: 'shadow-agreement', verdict: 'fail' }));
    const rollback = status.rollout!.decisions.at(-1)!;
    expect(rollback).toMatchObject({ kind: 'rollback', verdict: 'done' });
    expect(rollback.reason).toContain('shadow analysis failed');
    expect((await admin.state()).variants.stable?.version).toBe('v1.1.0');
  });

  it('rolls back at once on a manual rollback mid-canary', async () => {
    const { r, rollout } = await releaseToFiftyPercent('v1.3.0', '11');
    expect((await admin.state()).weights.candidate).toBe(50);
    const record = await rollout.executeUpdate(rollbackUpdate, { args: [{ by: 'bob', reason: 'p99 doubled on the dashboard' }] });
    expect(record).toMatchObject({ kind: 'rollback', by: 'bob' });
    const status = (await r.handle.result()) as ReleaseStatus;
    expect(status.stage).toBe('rolled-back');
    expect(status.rollout!.decisions.at(-1)!.reason).toBe('manual rollback by bob: p99 doubled on the dashboard');
    const state = await admin.state();
    expect(state.variants.stable?.version).toBe('v1.1.0');
    expect(state.weights.candidate).toBe(0);
  });

  it('rolls back when nobody approves in time', async () => {
    await tag('v1.4.0', { trainArgs: ['--seed', '13'], approvalTimeout: '3s' });
    const r = await startRelease(env.client, { repo, tag: 'v1.4.0' });
    const status = (await r.handle.result()) as ReleaseStatus;
    expect(status.stage).toBe('rolled-back');
    expect(status.rollout!.decisions.map((d) => d.kind)).toContain('approval-timeout');
    expect(status.rollout!.decisions.at(-1)!.reason).toContain('no decision within 3s; action: rollback');
    expect((await admin.state()).variants.stable?.version).toBe('v1.1.0');
  });

  it('escalates a late approval, takes approvals by signal, and rolls back on a rejection', async () => {
    await tag('v1.5.0', { trainArgs: ['--seed', '17'], approvalTimeout: '2s', escalate: true });
    const stableBefore = (await admin.state()).variants.stable?.version;
    const r = await startRelease(env.client, { repo, tag: 'v1.5.0' });
    const rollout = env.client.workflow.getHandle(rolloutWorkflowId(r.workflowId));
    const escalated = await waitRollout(env.client, r.workflowId, (s) => s.decisions.some((d) => d.kind === 'approval-timeout'));
    expect(escalated.awaiting?.step).toBe(1);
    // The memo is updated right after the decision record is kept (an activity): wait for it.
    const deadline = Date.now() + 30_000;
    let memo = '';
    while (!memo.includes('ESCALATED') && Date.now() < deadline) {
      memo = String((await rollout.describe()).memo?.summary);
      if (!memo.includes('ESCALATED')) await sleep(250);
    }
    expect(memo).toContain('ESCALATED');

    // A tool that can only signal: a refused signal is recorded, a valid one approves.
    await rollout.signal(approveSignal, { by: 'mallory', step: 1 });
    await waitRollout(env.client, r.workflowId, (s) => s.decisions.some((d) => d.kind === 'refused-signal'));
    await rollout.signal(approveSignal, { by: 'alice', step: 1, reason: 'seen the escalation' });
    await waitRollout(env.client, r.workflowId, (s) => s.awaiting?.step === 2, 120_000);
    await rollout.executeUpdate(rejectUpdate, { args: [{ by: 'bob', step: 2, reason: 'not before the holidays' }] });

    const status = (await r.handle.result()) as ReleaseStatus;
    expect(status.stage).toBe('rolled-back');
    const d = status.rollout!.decisions;
    expect(d.find((x) => x.kind === 'refused-signal')?.reason).toContain('mallory is not an approver');
    expect(d.find((x) => x.kind === 'approval')).toMatchObject({ by: 'alice', step: 1, clientIdentity: env.client.options.identity }); // sent as a Signal
    expect(d.find((x) => x.kind === 'rejection')).toMatchObject({ by: 'bob', step: 2, verdict: 'rejected' });
    expect(d.at(-1)!.reason).toBe('rejected by bob: not before the holidays');
    expect(d.filter((x) => x.kind === 'approval-timeout')).toHaveLength(1);
    expect((await admin.state()).variants.stable?.version).toBe(stableBefore);
  });

  it('extends a starved canary step by whole intervals up to maxBake, then rolls back saying what was missing', async () => {
    // 60 requests/s cannot bring 100000 per variant: every analysis is inconclusive for traffic.
    await tag('v1.6.0', { trainArgs: ['--seed', '19'], minRequests: 100_000, maxBake: '12s' });
    const r = await startRelease(env.client, { repo, tag: 'v1.6.0' });
    // The shadow gate judges its own minRequests (30), so the starved step is the canary's.
    await waitRollout(env.client, r.workflowId, (s) => s.awaiting?.step === 1, 90_000);
    await env.client.workflow.getHandle(rolloutWorkflowId(r.workflowId)).executeUpdate(approveUpdate, { args: [{ by: 'alice', step: 1 }] });
    const status = (await r.handle.result()) as ReleaseStatus;
    expect(status.stage).toBe('rolled-back');
    // The shadow may need an extension on a loaded machine; it must pass in the end.
    expect(status.rollout!.decisions.filter((d) => d.kind === 'shadow-gate').at(-1)?.verdict).toBe('pass');
    const analyses = status.rollout!.decisions.filter((d) => d.kind === 'analysis' && d.step === 1);
    // Every 2 s over a 12 s bake: about six analyses (1-second extensions made 13 before the fix).
    expect(analyses.length).toBeGreaterThanOrEqual(2);
    expect(analyses.length).toBeLessThanOrEqual(7);
    expect(analyses.every((d) => d.verdict === 'inconclusive')).toBe(true);
    const reason = status.rollout!.decisions.at(-1)!.reason!;
    expect(reason).toMatch(/too little traffic to judge canary at 50% within maxBake 12 s/);
    expect(reason).toMatch(/need 100000 each: \d+ more requests on the slower variant, about \d+ s more at its observed [0-9.]+\/s/);
    expect((await admin.state()).variants.stable?.version).toBe('v1.1.0');
  });

  it('survives malformed signals, updates and queries, and still rolls back', async () => {
    await tag('v1.7.0', { trainArgs: ['--seed', '23'] });
    const r = await startRelease(env.client, { repo, tag: 'v1.7.0' });
    await waitRollout(env.client, r.workflowId, (s) => s.awaiting?.step === 1, 90_000);
    const rollout = env.client.workflow.getHandle(rolloutWorkflowId(r.workflowId));
    const release = env.client.workflow.getHandle(r.workflowId);
    let sent = 0;
    // What `temporal workflow signal --name approveSignal` with no input sends, and worse.
    for (const name of ['approveSignal', 'rejectSignal', 'rollbackSignal']) {
      await rollout.signal(name);
      for (const payload of MALFORMED) await rollout.signal(name, payload);
      sent += 1 + MALFORMED.length;
    }
    await release.signal('targetStep');
    for (const payload of MALFORMED) await release.signal('targetStep', payload);
    let refusedUpdates = 0;
    for (const name of ['approve', 'reject', 'rollback']) {
      for (const payload of [null, {}, { by: 'x'.repeat(100_000) }, { by: 'alice', step: 'one' }]) {
        const err = await rollout.executeUpdate(name, { args: [payload] }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(WorkflowUpdateFailedError);
        refusedUpdates++;
      }
    }
    // Queries still answer, the step still waits, every refusal is counted.
    const s = await waitRollout(env.client, r.workflowId, (x) => (x.decisions.filter((d) => d.kind === 'refused-signal').length + (x.refusedSignalsNotRecorded ?? 0)) === sent, 30_000);
    expect(s.awaiting?.step).toBe(1);
    expect(s.decisions.filter((d) => d.kind === 'refused-signal')).toHaveLength(MAX_REFUSED_SIGNAL_RECORDS);
    expect(s.decisions.filter((d) => d.kind === 'approval' || d.kind === 'rejection')).toHaveLength(0);
    expect(refusedUpdates).toBe(12);
    const releaseStatus = await release.query(statusQuery);
    expect(releaseStatus.refusedSignals?.count).toBe(MALFORMED.length + 1);

    const record = await rollout.executeUpdate(rollbackUpdate, { args: [{ by: 'bob', reason: 'checking rollback after a flood' }] });
    expect(record).toMatchObject({ kind: 'rollback', by: 'bob' });
    const status = (await r.handle.result()) as ReleaseStatus;
    expect(status.stage).toBe('rolled-back');
    expect((await admin.state()).variants.stable?.version).toBe('v1.1.0');
  });

  it('rolls back when the release is cancelled mid-canary, and keeps the record', async () => {
    const { r, rollout } = await releaseToFiftyPercent('v1.8.0', '29');
    await r.handle.cancel();
    const err = await r.handle.result().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect((err as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
    expect((await rollout.describe()).status.name).toBe('CANCELLED');
    // The compensation ran although the workflow was being cancelled: stable only, and said so.
    const state = await admin.state();
    expect(state.variants.stable?.version).toBe('v1.1.0');
    expect(state.variants.candidate).toBeUndefined();
    expect(state.weights.candidate).toBe(0);
    const decisions = join(home, 'artifacts', 'packages', 'digits', 'v1.8.0', 'decisions');
    const rollback = (await readdir(decisions)).find((f) => f.endsWith('-rollback.json'))!;
    expect(JSON.parse(await readFile(join(decisions, rollback), 'utf8'))).toMatchObject({ kind: 'rollback', verdict: 'done', reason: 'the release was cancelled' });
  });

  it('refuses the admin API without the right token', async () => {
    await expect(new RuntimeAdminClient({ url: runtime.url, token: 'wrong' }).state()).rejects.toBeInstanceOf(UserError);
    const missing = await fetch(`${runtime.url}/admin/state`);
    expect(missing.status).toBe(401);
    const wrong = await fetch(`${runtime.url}/admin/state`, { headers: { authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(403);
  });
});
