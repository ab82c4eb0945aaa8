/**
 * The rollout (steps 7–10): its input, state, decision records, and the Updates, Signals and
 * Query people and tools use on it — defined once, shared by the workflow, the CLI and the demo.
 *
 * @module
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { RolloutSpec } from './manifest.ts';
import type { PackagedEngine } from './release.ts';

/** Phases of a rollout; also the ReleaseStage values it sets. */
export const RolloutPhase = {
  Checking: 'checking',
  Shadow: 'shadow',
  AwaitingApproval: 'awaiting-approval',
  Canary: 'canary',
  Promoted: 'promoted',
  RolledBack: 'rolled-back',
} as const;
/** One of {@link RolloutPhase}. */
export type RolloutPhase = (typeof RolloutPhase)[keyof typeof RolloutPhase];

/** The rollout's child workflow ID. */
export function rolloutWorkflowId(releaseId: string): string {
  return `${releaseId}/rollout`;
}

/** What the rollout child receives from the release. */
export interface RolloutInput {
  releaseId: string;
  model: string;
  tag: string;
  /** The package that goes to production. */
  package: PackagedEngine;
  plan: RolloutSpec;
  /** Where the previous run of this rollout stopped, when it continued as new (absent on the first run). */
  resume?: RolloutCheckpoint;
}

/**
 * Where a rollout continues after continue-as-new: what the earlier runs learnt (the stable
 * version, the staged package folder), the status with its decision records, and the wait it was
 * in — a bake (its start, so the analysis window and the bake's end stay where they were) or an
 * approval (its start and whether it was escalated, so the timeout stays where it was).
 */
export interface RolloutCheckpoint {
  stableVersion?: string;
  /** The package staged on the serving runtime. */
  dir: string;
  status: RolloutStatus;
  at: BakeCheckpoint | ApprovalCheckpoint;
}

/** Inside a bake: the shadow (step 0) or canary step `step`. */
export interface BakeCheckpoint {
  kind: 'bake';
  step: number;
  /** Workflow time (ms) the bake began. */
  started: number;
  /** Workflow time (ms) the previous canary step began (the window at 100% reaches back to it). */
  previousStepStart?: number;
}

/** Waiting for a person on step `step` (0: the first release). */
export interface ApprovalCheckpoint {
  kind: 'approval';
  step: number;
  /** Workflow time (ms) the wait began. */
  since: number;
  escalated: boolean;
  /** Workflow time (ms) the previous canary step began. */
  previousStepStart?: number;
}

/** A step that needs a person's approval: `first` (first release) or a canary weight. */
export interface ApprovalGate {
  /** 1-based canary step, or 0 for the first release of a model. */
  step: number;
  weight: number;
  since: string;
}

/** Arguments of approve / reject. */
export interface ApprovalArgs {
  /** Who decides; must be one of the manifest's approvers. */
  by: string;
  /** The step being approved (guards against approving the wrong one); default the waiting one. */
  step?: number;
  reason?: string;
}

/** Arguments of a manual rollback. */
export interface RollbackArgs {
  by: string;
  reason: string;
}

/** One gate's record: inputs, thresholds, statistic, verdict, and who decided. */
export interface DecisionRecord {
  seq: number;
  at: string;
  kind: 'approval' | 'rejection' | 'approval-timeout' | 'analysis' | 'shadow-gate' | 'fleet-check' | 'rollback' | 'promotion' | 'verification' | 'refused-signal';
  phase: RolloutPhase;
  step?: number;
  weight?: number;
  verdict: 'pass' | 'fail' | 'inconclusive' | 'approved' | 'rejected' | 'done' | 'refused';
  by?: string;
  /**
   * The Temporal client identity the server recorded with the approval's Update or Signal
   * (what the caller's client connected as; `by` is what the caller typed).
   */
  clientIdentity?: string;
  reason?: string;
  /** The statistics and thresholds (analysis checks), or anything the gate looked at. */
  detail?: unknown;
  /** Where the full record is kept in the artifact store. */
  uri?: string;
}

/** What `rolloutStatus` answers and the rollout returns. */
export interface RolloutStatus {
  phase: RolloutPhase;
  weights: { candidate: number; shadow: number };
  awaiting?: ApprovalGate;
  stableVersion?: string;
  candidateVersion: string;
  decisions: DecisionRecord[];
  outcome?: 'promoted' | 'rolled-back';
  /** Refused signals beyond the first {@link MAX_REFUSED_SIGNAL_RECORDS} (each of those has a decision record). */
  refusedSignalsNotRecorded?: number;
  /** Runs of this rollout so far (continue-as-new starts another); absent: 1. */
  runs?: number;
  /**
   * Analysis records left out of `decisions` when the rollout continued as new (the oldest first;
   * each is still kept in the artifact store at its `uri`), so that a bake of days stays small.
   */
  analysesNotCarried?: number;
}

/** Refused signals recorded one by one; later ones are only counted, so a flood cannot grow the state without bound. */
export const MAX_REFUSED_SIGNAL_RECORDS = 50;

/** Approves the step waiting for approval. */
export const approveUpdate = defineUpdate<DecisionRecord, [ApprovalArgs]>('approve');
/** Rejects the step waiting for approval: the rollout rolls back. */
export const rejectUpdate = defineUpdate<DecisionRecord, [ApprovalArgs]>('reject');
/** Rolls back at any moment. */
export const rollbackUpdate = defineUpdate<DecisionRecord, [RollbackArgs]>('rollback');
/** Signal twin of approve, for tools that can only signal (refusals are recorded, not returned). */
export const approveSignal = defineSignal<[ApprovalArgs]>('approveSignal');
/** Signal twin of reject. */
export const rejectSignal = defineSignal<[ApprovalArgs]>('rejectSignal');
/** Signal twin of rollback. */
export const rollbackSignal = defineSignal<[RollbackArgs]>('rollbackSignal');
/** Reads the rollout's phase, weights, the step awaiting approval and every decision. */
export const rolloutStatusQuery = defineQuery<RolloutStatus>('rolloutStatus');

/** Descriptions the Temporal UI shows beside the handlers. */
export const HANDLER_DESCRIPTIONS = {
  approve: 'Approve the canary step waiting for approval. Args: { by: "<approver from the manifest>", step?: <n>, reason? }',
  reject: 'Reject the step waiting for approval; the candidate is rolled back. Args: { by, step?, reason? }',
  rollback: 'Roll back now, whatever the phase. Args: { by, reason }',
  rolloutStatus: 'Phase, traffic weights, the step awaiting approval, and every decision record.',
} as const;
