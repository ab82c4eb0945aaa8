/**
 * The rollout (steps 7–10), a child of the release. First release of a model: one approval, then
 * 100%. Otherwise: shadow → shadow gate → for each canary step: approval → weight → bake with
 * analysis every interval → promote at 100%. Rolls back on a failed analysis, a rejection, an
 * approval timeout (when the plan says so), a manual rollback, or cancellation; then verifies that
 * the stable version really serves. Every gate leaves a decision record.
 *
 * @module
 */
import {
  ApplicationFailure,
  CancellationScope,
  condition,
  currentUpdateInfo,
  isCancellation,
  patched,
  proxyActivities,
  setHandler,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { AnalysisActivities } from '../activities/metrics/analysis-activities.ts';
import type { RolloutActivities } from '../activities/index.ts';
import type { ServingSnapshot } from '../activities/rollout.ts';
import type { AnalysisResult } from '../lib/analysis/types.ts';
import { ErrorType } from '../lib/errors.ts';
import {
  approveSignal,
  approveUpdate,
  HANDLER_DESCRIPTIONS,
  rejectSignal,
  rejectUpdate,
  rollbackSignal,
  rollbackUpdate,
  RolloutPhase,
  rolloutStatusQuery,
  type ApprovalArgs,
  type DecisionRecord,
  type RollbackArgs,
  type RolloutInput,
  type RolloutStatus,
  MAX_REFUSED_SIGNAL_RECORDS,
} from '../lib/rollout.ts';
import { claimedBy, parseApprovalArgs, parseRollbackArgs } from '../lib/rollout-args.ts';
import { ReleaseStageKey } from '../lib/search-attributes.ts';
import { RETRY } from './activity-options.ts';
import { failureMessage } from './step-tracker.ts';

const runtime = proxyActivities<RolloutActivities>({ startToCloseTimeout: '5m', retry: RETRY });
const analysis = proxyActivities<AnalysisActivities>({ startToCloseTimeout: '5m', retry: RETRY });

/**
 * Most bake extensions for too little traffic before the rollout gives up and rolls back; with
 * whole-interval extensions, the default `rollout.maxBake` is the step's bake plus this many
 * analysis intervals.
 */
const MAX_EXTENSIONS = 10;

/** Parses a manifest duration (`30s`, `10m`, …) to milliseconds. */
export function durationMs(d: string): number {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(d);
  if (!m) throw new Error(`not a duration: ${d}`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'ms' | 's' | 'm' | 'h' | 'd'];
  return Number(m[1]) * unit;
}

/** Thrown inside the rollout to stop and roll back, carrying the reason. */
class RollbackRequested extends Error {
  constructor(
    readonly reason: string,
    readonly by?: string,
  ) {
    super(reason);
  }
}

/** Moves traffic from the stable version to the release's package, with people and numbers deciding. */
export async function rollout(input: RolloutInput): Promise<RolloutStatus> {
  const { plan } = input;
  const status: RolloutStatus = { phase: RolloutPhase.Checking, weights: { candidate: 0, shadow: 0 }, candidateVersion: input.tag, decisions: [] };
  let decision: { kind: 'approved' | 'rejected'; record: DecisionRecord; updateId?: string; signalName?: string } | undefined;
  let manualRollback: RollbackArgs | undefined;

  const now = () => new Date(Date.now()).toISOString();
  const record = (r: Omit<DecisionRecord, 'seq' | 'at' | 'phase'>): DecisionRecord => {
    const full: DecisionRecord = { seq: status.decisions.length + 1, at: now(), phase: status.phase, ...r };
    status.decisions.push(full);
    return full;
  };
  const keep = async (r: DecisionRecord) => {
    r.uri = await runtime.keepDecision({ model: input.model, tag: input.tag, record: r });
  };
  const enter = (phase: RolloutPhase, summary: string) => {
    status.phase = phase;
    upsertSearchAttributes([{ key: ReleaseStageKey, value: phase }]);
    upsertMemo({ summary: `${input.model} ${input.tag}: ${summary}` });
  };

  // ---- people: approve / reject / rollback, as Updates (validated) and Signals (recorded) ----
  // Validators check the payload first (any value can arrive: null, {}, wrong types, huge
  // strings) and throw an Error naming the field: an Update is refused, a Signal is recorded as
  // refused. Nothing a caller sends can fail the workflow task.
  const validateDecision = (raw: unknown) => {
    const args = parseApprovalArgs(raw);
    if (!status.awaiting) throw new Error(`no step is waiting for approval (phase: ${status.phase})`);
    if (!plan.approvers.includes(args.by)) throw new Error(`${args.by} is not an approver of ${input.model} (approvers: ${plan.approvers.join(', ')})`);
    if (args.step !== undefined && args.step !== status.awaiting.step) throw new Error(`step ${args.step} is not the one waiting; step ${status.awaiting.step} (weight ${status.awaiting.weight}%) is`);
    if (decision) throw new Error(`step ${status.awaiting.step} was already ${decision.kind} by ${decision.record.by}`);
  };
  const decide = (kind: 'approved' | 'rejected', args: ApprovalArgs, signalName?: string) => {
    const r = record({ kind: kind === 'approved' ? 'approval' : 'rejection', verdict: kind, by: args.by, reason: args.reason, step: status.awaiting?.step, weight: status.awaiting?.weight });
    decision = { kind, record: r, updateId: currentUpdateInfo()?.id, signalName };
    return r;
  };
  const validateRollback = (raw: unknown) => {
    parseRollbackArgs(raw);
    if (status.outcome) throw new Error(`the rollout already ended: ${status.outcome}`);
    if (manualRollback) throw new Error(`a rollback was already asked for by ${manualRollback.by}`);
  };
  const askRollback = (args: RollbackArgs) => {
    manualRollback = args;
    return record({ kind: 'rollback', verdict: 'done', by: args.by, reason: `requested: ${args.reason}` });
  };
  setHandler(approveUpdate, (args) => decide('approved', args), { validator: validateDecision, description: HANDLER_DESCRIPTIONS.approve });
  setHandler(rejectUpdate, (args) => decide('rejected', args), { validator: validateDecision, description: HANDLER_DESCRIPTIONS.reject });
  setHandler(rollbackUpdate, (args) => askRollback(args), { validator: validateRollback, description: HANDLER_DESCRIPTIONS.rollback });
  const signalTwin =
    <A>(validate: (raw: unknown) => void, apply: (a: A) => unknown) =>
    (raw: unknown) => {
      try {
        validate(raw);
        apply(raw as A);
      } catch (err) {
        const refused = status.decisions.filter((d) => d.kind === 'refused-signal').length;
        if (refused >= MAX_REFUSED_SIGNAL_RECORDS) {
          status.refusedSignalsNotRecorded = (status.refusedSignalsNotRecorded ?? 0) + 1;
          return;
        }
        const message = err instanceof Error ? err.message : String(err);
        record({ kind: 'refused-signal', verdict: 'refused', by: claimedBy(raw), reason: message.slice(0, 500) });
      }
    };
  setHandler(approveSignal, signalTwin<ApprovalArgs>(validateDecision, (a) => decide('approved', a, approveSignal.name)));
  setHandler(rejectSignal, signalTwin<ApprovalArgs>(validateDecision, (a) => decide('rejected', a, rejectSignal.name)));
  setHandler(rollbackSignal, signalTwin<RollbackArgs>(validateRollback, askRollback));
  setHandler(rolloutStatusQuery, () => status, { description: HANDLER_DESCRIPTIONS.rolloutStatus });

  const throwIfRollback = () => {
    if (manualRollback) throw new RollbackRequested(`manual rollback by ${manualRollback.by}: ${manualRollback.reason}`, manualRollback.by);
  };

  /** Waits for a person on a step; the plan's timeout rolls back or escalates. */
  const awaitApproval = async (step: number, weight: number) => {
    decision = undefined;
    status.awaiting = { step, weight, since: now() };
    enter(RolloutPhase.AwaitingApproval, `waiting for approval of ${step === 0 ? 'the first release' : `canary step ${step} (${weight}%)`}`);
    let escalated = false;
    for (;;) {
      const someoneDecided = () => decision !== undefined || manualRollback !== undefined;
      // Once escalated, wait without a deadline (condition() with an undefined timeout returns at once).
      const decided = escalated ? (await condition(someoneDecided), true) : await condition(someoneDecided, plan.approvalTimeout.after);
      throwIfRollback();
      if (decided) break;
      const r = record({ kind: 'approval-timeout', verdict: plan.approvalTimeout.action === 'rollback' ? 'fail' : 'inconclusive', step, weight, reason: `no decision within ${plan.approvalTimeout.after}; action: ${plan.approvalTimeout.action}` });
      await keep(r);
      if (plan.approvalTimeout.action === 'rollback') throw new RollbackRequested(r.reason!);
      escalated = true;
      upsertMemo({ summary: `${input.model} ${input.tag}: ESCALATED — step ${step} (${weight}%) waited ${plan.approvalTimeout.after} for approval` });
    }
    status.awaiting = undefined;
    if (patched('approver-client-identity')) {
      // Beside the name the caller typed, the identity its Temporal client connected as.
      const { workflowId, runId } = workflowInfo();
      const identity = await runtime.senderIdentity({ workflowId, runId, updateId: decision!.updateId, signalName: decision!.updateId ? undefined : decision!.signalName });
      if (identity) decision!.record.clientIdentity = identity;
    }
    await keep(decision!.record);
    if (decision!.kind === 'rejected') throw new RollbackRequested(`rejected by ${decision!.record.by}${decision!.record.reason ? `: ${decision!.record.reason}` : ''}`, decision!.record.by);
  };

  /** Waits `ms`, waking at once for a manual rollback. */
  const pause = async (ms: number) => {
    await condition(() => manualRollback !== undefined, ms);
    throwIfRollback();
  };

  /**
   * Bakes for `bake`, analysing every interval over the window since the step began; a failed
   * analysis rolls back; too little traffic extends the bake.
   */
  const bakeWithAnalysis = async (mode: 'shadow' | 'canary', bake: string, step: number, weight: number, stableVersion: string, windowFrom?: number) => {
    const interval = durationMs(plan.analysis.interval);
    const bakeMs = durationMs(bake);
    const started = Date.now();
    const from = windowFrom ?? started;
    // Before this patch an extension after the bake lasted 1 s, so ten of them ended a 1% canary
    // seconds before its traffic would have sufficed (seen on a loaded 2-core machine and on the H200).
    const wholeIntervals = patched('bake-extends-by-whole-intervals');
    // Before this patch the shadow gate judged traffic by `analysis.minRequests`, not the plan's
    // `shadow.minRequests`.
    const thresholds =
      mode === 'shadow' && plan.shadow && patched('shadow-gate-own-min-requests') ? { ...plan.analysis, minRequests: plan.shadow.minRequests } : plan.analysis;
    const maxBakeMs = plan.maxBake ? Math.max(bakeMs, durationMs(plan.maxBake)) : bakeMs + MAX_EXTENSIONS * interval;
    let extensions = 0;
    let last: AnalysisResult | undefined;
    for (;;) {
      const remaining = started + bakeMs - Date.now();
      await pause(wholeIntervals ? (remaining > 0 ? Math.min(interval, remaining) : interval) : Math.min(interval, Math.max(1000, remaining)));
      last = await analysis.analyzeCanary({
        model: input.model,
        stableVersion,
        candidateVersion: input.tag,
        windowSeconds: Math.max(1, Math.round((Date.now() - from) / 1000)),
        thresholds,
        mode,
      });
      await keep(record({ kind: mode === 'shadow' ? 'shadow-gate' : 'analysis', verdict: last.verdict, step, weight, detail: last }));
      if (last.verdict === 'fail') {
        const failed = last.checks.filter((c) => c.verdict === 'fail').map((c) => `${c.check} ${c.detail ?? ''}`.trim());
        throw new RollbackRequested(`${mode} analysis failed at ${weight}%: ${failed.join('; ')}`);
      }
      const baked = Date.now() - started >= bakeMs;
      if (!baked) continue;
      if (last.verdict === 'pass') return;
      if (wholeIntervals) {
        if (Date.now() - started + interval > maxBakeMs) {
          const traffic = last.checks.find((c) => c.check === 'traffic' && c.verdict === 'inconclusive');
          throw new RollbackRequested(
            `too little traffic to judge ${mode} at ${weight}% within maxBake ${Math.round(maxBakeMs / 1000)} s${traffic?.detail ? ` (${traffic.detail})` : ''}`,
          );
        }
        continue;
      }
      if (++extensions > MAX_EXTENSIONS) throw new RollbackRequested(`too little traffic to judge ${mode} at ${weight}% after ${extensions - 1} extensions`);
    }
  };

  let stableVersion: string | undefined;
  try {
    const serving: ServingSnapshot = await runtime.inspectRuntime({ model: input.model });
    stableVersion = serving.stableVersion;
    status.stableVersion = stableVersion;
    const fleet = await runtime.checkFleet({ package: input.package });
    await keep(record({ kind: 'fleet-check', verdict: fleet.ok ? 'pass' : 'fail', reason: fleet.summary, detail: { serving, fleet, package: input.package } }));
    if (!fleet.ok) throw new RollbackRequested(`the serving fleet cannot run this engine: ${fleet.summary}`);
    const dir = await runtime.stagePackage({ model: input.model, tag: input.tag, package: input.package });

    if (!stableVersion) {
      // First release of this model: one approval, then all traffic.
      await awaitApproval(0, 100);
      await runtime.loadVariant({ variant: 'stable', dir, model: input.model });
      status.weights = { candidate: 0, shadow: 0 };
    } else {
      if (plan.shadow) {
        enter(RolloutPhase.Shadow, `shadowing ${stableVersion} with ${Math.round(plan.shadow.sampleShare * 100)}% of traffic`);
        await runtime.loadVariant({ variant: 'shadow', dir, model: input.model });
        await runtime.setTraffic({ shadow: Math.round(plan.shadow.sampleShare * 100), model: input.model });
        status.weights.shadow = Math.round(plan.shadow.sampleShare * 100);
        await bakeWithAnalysis('shadow', plan.shadow.duration, 0, 0, stableVersion);
        await runtime.setTraffic({ shadow: 0, model: input.model });
        status.weights.shadow = 0;
      }
      await runtime.loadVariant({ variant: 'candidate', dir, model: input.model });
      let previousStepStart: number | undefined;
      for (const [i, step] of plan.canary.entries()) {
        await awaitApproval(i + 1, step.weight);
        enter(RolloutPhase.Canary, `canary step ${i + 1}: ${step.weight}% to ${input.tag}, baking ${step.bake}`);
        await runtime.setTraffic({ candidate: step.weight, model: input.model });
        status.weights.candidate = step.weight;
        const stepStart = Date.now();
        // At 100% the stable serves nothing: compare over a window reaching back into the previous
        // step, when both versions served side by side (the stable stays loaded and warm).
        await bakeWithAnalysis('canary', step.bake, i + 1, step.weight, stableVersion, step.weight >= 100 ? previousStepStart : undefined);
        previousStepStart = stepStart;
      }
      await runtime.promoteCandidate({ version: input.tag, model: input.model });
      status.weights = { candidate: 0, shadow: 0 };
    }
    const after = await runtime.verifyServing({ model: input.model });
    const ok = after.stableVersion === input.tag && after.ready;
    await keep(record({ kind: 'verification', verdict: ok ? 'pass' : 'fail', detail: after, reason: `stable serves ${after.stableVersion}` }));
    if (!ok) throw ApplicationFailure.nonRetryable(`after promotion the runtime serves ${after.stableVersion}, not ${input.tag}`, ErrorType.Infrastructure);
    await keep(record({ kind: 'promotion', verdict: 'done', reason: `${input.tag} is stable` }));
    status.outcome = 'promoted';
    enter(RolloutPhase.Promoted, `${input.tag} promoted`);
    return status;
  } catch (err) {
    const reason = err instanceof RollbackRequested ? err.reason : isCancellation(err) ? 'the release was cancelled' : `rollout failed: ${failureMessage(err)}`;
    // Compensation runs even when the workflow is being cancelled.
    await CancellationScope.nonCancellable(async () => {
      await runtime.rollbackRuntime({ model: input.model });
      status.weights = { candidate: 0, shadow: 0 };
      status.awaiting = undefined;
      const after = await runtime.verifyServing({ model: input.model });
      const ok = after.stableVersion === stableVersion && !after.candidateVersion && !after.shadowVersion;
      await keep(record({ kind: 'rollback', verdict: ok ? 'done' : 'fail', reason, detail: after }));
      status.outcome = 'rolled-back';
      enter(RolloutPhase.RolledBack, `rolled back: ${reason}; ${stableVersion ?? 'nothing'} serves`);
    });
    if (isCancellation(err)) throw err;
    return status;
  }
}
