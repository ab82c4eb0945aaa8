/**
 * People in the rollout: approve, reject and roll back, as Updates (validated: a refused one never
 * reaches the workflow's history as a change) and as Signal twins for tools that can only signal
 * (a refused signal is recorded, a flood only counted); waiting for a decision with the plan's
 * timeout; and a manual rollback waking any wait at once.
 *
 * @module
 */
import { condition, currentUpdateInfo, patched, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { RolloutActivities } from '../../activities/index.ts';
import {
  approveSignal,
  approveUpdate,
  HANDLER_DESCRIPTIONS,
  MAX_REFUSED_SIGNAL_RECORDS,
  rejectSignal,
  rejectUpdate,
  rollbackSignal,
  rollbackUpdate,
  RolloutPhase,
  type ApprovalArgs,
  type DecisionRecord,
  type RollbackArgs,
} from '../../lib/rollout.ts';
import { claimedBy, parseApprovalArgs, parseRollbackArgs } from '../../lib/rollout-args.ts';
import { RETRY } from '../activity-options.ts';
import { CONTINUE_AS_NEW_PATCH, continueRollout, serverSuggestsContinueAsNew } from './continue-as-new.ts';
import { durationMs, RollbackRequested, type RolloutRecords } from './records.ts';

const runtime = proxyActivities<RolloutActivities>({ startToCloseTimeout: '5m', retry: RETRY });

/** A decision on the waiting step, and how it came (for the sender's identity). */
interface Decision {
  kind: 'approved' | 'rejected';
  record: DecisionRecord;
  updateId?: string;
  signalName?: string;
}

/** Where a wait for approval stands when an earlier run of the rollout began it, and what a continued run needs. */
export interface ApprovalWait {
  /** When the wait began (workflow ms): its timeout counts from then. Default now. */
  since?: number;
  escalated?: boolean;
  /** When the previous canary step began (workflow ms). */
  previousStepStart?: number;
}

/** The people side of a rollout; {@link register} once, at the start. */
export class Approvals {
  private decision: Decision | undefined;
  private manualRollback: RollbackArgs | undefined;

  constructor(private readonly records: RolloutRecords) {}

  private get status() {
    return this.records.status;
  }

  private get plan() {
    return this.records.input.plan;
  }

  // Validators check the payload first (any value can arrive: null, {}, wrong types, huge strings)
  // and throw an Error naming the field: an Update is refused, a Signal is recorded as refused.
  // Nothing a caller sends can fail the workflow task.
  private validateDecision = (raw: unknown): void => {
    const args = parseApprovalArgs(raw);
    const { awaiting } = this.status;
    if (!awaiting) throw new Error(`no step is waiting for approval (phase: ${this.status.phase})`);
    if (!this.plan.approvers.includes(args.by)) throw new Error(`${args.by} is not an approver of ${this.records.input.model} (approvers: ${this.plan.approvers.join(', ')})`);
    if (args.step !== undefined && args.step !== awaiting.step) throw new Error(`step ${args.step} is not the one waiting; step ${awaiting.step} (weight ${awaiting.weight}%) is`);
    if (this.decision) throw new Error(`step ${awaiting.step} was already ${this.decision.kind} by ${this.decision.record.by}`);
  };

  private decide = (kind: 'approved' | 'rejected', args: ApprovalArgs, signalName?: string): DecisionRecord => {
    const { awaiting } = this.status;
    const r = this.records.record({ kind: kind === 'approved' ? 'approval' : 'rejection', verdict: kind, by: args.by, reason: args.reason, step: awaiting?.step, weight: awaiting?.weight });
    this.decision = { kind, record: r, updateId: currentUpdateInfo()?.id, signalName };
    return r;
  };

  private validateRollback = (raw: unknown): void => {
    parseRollbackArgs(raw);
    if (this.status.outcome) throw new Error(`the rollout already ended: ${this.status.outcome}`);
    if (this.manualRollback) throw new Error(`a rollback was already asked for by ${this.manualRollback.by}`);
  };

  private askRollback = (args: RollbackArgs): DecisionRecord => {
    this.manualRollback = args;
    return this.records.record({ kind: 'rollback', verdict: 'done', by: args.by, reason: `requested: ${args.reason}` });
  };

  /** A Signal handler doing what its Update twin does, recording (not throwing) a refusal. */
  private signalTwin =
    <A>(validate: (raw: unknown) => void, apply: (a: A) => unknown) =>
    (raw: unknown): void => {
      try {
        validate(raw);
        apply(raw as A);
      } catch (err) {
        const refused = this.status.decisions.filter((d) => d.kind === 'refused-signal').length;
        if (refused >= MAX_REFUSED_SIGNAL_RECORDS) {
          this.status.refusedSignalsNotRecorded = (this.status.refusedSignalsNotRecorded ?? 0) + 1;
          return;
        }
        const message = err instanceof Error ? err.message : String(err);
        this.records.record({ kind: 'refused-signal', verdict: 'refused', by: claimedBy(raw), reason: message.slice(0, 500) });
      }
    };

  /** Sets the Update and Signal handlers. */
  register(): void {
    setHandler(approveUpdate, (args) => this.decide('approved', args), { validator: this.validateDecision, description: HANDLER_DESCRIPTIONS.approve });
    setHandler(rejectUpdate, (args) => this.decide('rejected', args), { validator: this.validateDecision, description: HANDLER_DESCRIPTIONS.reject });
    setHandler(rollbackUpdate, (args) => this.askRollback(args), { validator: this.validateRollback, description: HANDLER_DESCRIPTIONS.rollback });
    setHandler(approveSignal, this.signalTwin<ApprovalArgs>(this.validateDecision, (a) => this.decide('approved', a, approveSignal.name)));
    setHandler(rejectSignal, this.signalTwin<ApprovalArgs>(this.validateDecision, (a) => this.decide('rejected', a, rejectSignal.name)));
    setHandler(rollbackSignal, this.signalTwin<RollbackArgs>(this.validateRollback, this.askRollback));
  }

  // A method, not a field read: TypeScript would narrow the field to `undefined` from the wait's start.
  private hasDecision(): boolean {
    return this.decision !== undefined;
  }

  /** Throws {@link RollbackRequested} once someone asked for a rollback. */
  throwIfRollback(): void {
    const m = this.manualRollback;
    if (m) throw new RollbackRequested(`manual rollback by ${m.by}: ${m.reason}`, m.by);
  }

  /** Waits `ms`, waking at once for a manual rollback. */
  async pause(ms: number): Promise<void> {
    await condition(() => this.manualRollback !== undefined, ms);
    this.throwIfRollback();
  }

  /**
   * Waits for a person on a step; the plan's timeout rolls back or escalates. A long wait
   * continues as new where the server suggests it (a flood of signals grows the history).
   */
  async awaitApproval(step: number, weight: number, wait: ApprovalWait = {}): Promise<void> {
    const { plan, records, status } = this;
    this.decision = undefined;
    const since = wait.since ?? Date.now();
    status.awaiting = { step, weight, since: new Date(since).toISOString() };
    records.enter(RolloutPhase.AwaitingApproval, `waiting for approval of ${step === 0 ? 'the first release' : `canary step ${step} (${weight}%)`}`);
    let escalated = wait.escalated ?? false;
    // Histories recorded before continue-as-new replay with the wait they had.
    const mayContinue = patched(CONTINUE_AS_NEW_PATCH);
    const timeoutMs = durationMs(plan.approvalTimeout.after);
    for (;;) {
      const someoneDecided = () => this.decision !== undefined || this.manualRollback !== undefined;
      const wake = () => someoneDecided() || (mayContinue && serverSuggestsContinueAsNew());
      const left = mayContinue ? Math.max(1, since + timeoutMs - Date.now()) : plan.approvalTimeout.after;
      // Once escalated, wait without a deadline (condition() with an undefined timeout returns at once).
      const woken = escalated ? (await condition(wake), true) : await condition(wake, left);
      this.throwIfRollback();
      if (this.hasDecision()) break;
      if (woken) {
        // An approval that arrives while the handlers finish is taken here, not carried over.
        await continueRollout(records, this, { kind: 'approval', step, since, escalated, previousStepStart: wait.previousStepStart }, () => !this.hasDecision());
        continue;
      }
      const r = records.record({ kind: 'approval-timeout', verdict: plan.approvalTimeout.action === 'rollback' ? 'fail' : 'inconclusive', step, weight, reason: `no decision within ${plan.approvalTimeout.after}; action: ${plan.approvalTimeout.action}` });
      await records.keep(r);
      if (plan.approvalTimeout.action === 'rollback') throw new RollbackRequested(r.reason!);
      escalated = true;
      records.memo(`ESCALATED — step ${step} (${weight}%) waited ${plan.approvalTimeout.after} for approval`);
    }
    status.awaiting = undefined;
    const decision = this.decision!;
    if (patched('approver-client-identity')) {
      // Beside the name the caller typed, the identity its Temporal client connected as.
      const { workflowId, runId } = workflowInfo();
      const identity = await runtime.senderIdentity({ workflowId, runId, updateId: decision.updateId, signalName: decision.updateId ? undefined : decision.signalName });
      if (identity) decision.record.clientIdentity = identity;
    }
    await records.keep(decision.record);
    if (decision.kind === 'rejected') throw new RollbackRequested(`rejected by ${decision.record.by}${decision.record.reason ? `: ${decision.record.reason}` : ''}`, decision.record.by);
  }
}
