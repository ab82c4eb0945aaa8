/**
 * The rollout's state and its records: the status people query, each decision record (kept in
 * the artifact store), the phase shown as ReleaseStage and in the memo, and the reason a rollout
 * stops ({@link RollbackRequested}).
 *
 * @module
 */
import { proxyActivities, upsertMemo, upsertSearchAttributes } from '@temporalio/workflow';
import type { RolloutActivities } from '../../activities/index.ts';
import { RolloutPhase, type DecisionRecord, type RolloutInput, type RolloutStatus } from '../../lib/rollout.ts';
import { ReleaseStageKey } from '../../lib/search-attributes.ts';
import { RETRY } from '../activity-options.ts';

const runtime = proxyActivities<RolloutActivities>({ startToCloseTimeout: '5m', retry: RETRY });

/** Thrown inside the rollout to stop and roll back, carrying the reason. */
export class RollbackRequested extends Error {
  constructor(
    readonly reason: string,
    readonly by?: string,
  ) {
    super(reason);
  }
}

/** Parses a manifest duration (`30s`, `10m`, …) to milliseconds. */
export function durationMs(d: string): number {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(d);
  if (!m) throw new Error(`not a duration: ${d}`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'ms' | 's' | 'm' | 'h' | 'd'];
  return Number(m[1]) * unit;
}

/** The rollout's status and how it changes: records, phases, the memo. */
export class RolloutRecords {
  /** What `rolloutStatus` answers and the rollout returns. */
  readonly status: RolloutStatus;
  /** What the rollout learnt on the way that a continued run needs: the stable version, the staged package. */
  readonly context: { stableVersion?: string; dir?: string };

  constructor(readonly input: RolloutInput) {
    const { resume } = input;
    this.status = resume?.status ?? { phase: RolloutPhase.Checking, weights: { candidate: 0, shadow: 0 }, candidateVersion: input.tag, decisions: [] };
    this.context = resume ? { stableVersion: resume.stableVersion, dir: resume.dir } : {};
  }

  /** Workflow time as ISO text. */
  now(): string {
    return new Date(Date.now()).toISOString();
  }

  /** Adds a decision record (numbered, timed, in the current phase) to the status. */
  record(r: Omit<DecisionRecord, 'seq' | 'at' | 'phase'>): DecisionRecord {
    // After the last carried one (a continued rollout may have left old analysis records out).
    const seq = (this.status.decisions.at(-1)?.seq ?? 0) + 1;
    const full: DecisionRecord = { seq, at: this.now(), phase: this.status.phase, ...r };
    this.status.decisions.push(full);
    return full;
  }

  /** Keeps a record in the artifact store beside the packages; notes where. */
  async keep(r: DecisionRecord): Promise<void> {
    r.uri = await runtime.keepDecision({ model: this.input.model, tag: this.input.tag, record: r });
  }

  /** Enters a phase: the status, the ReleaseStage search attribute, the memo. */
  enter(phase: RolloutPhase, summary: string): void {
    this.status.phase = phase;
    upsertSearchAttributes([{ key: ReleaseStageKey, value: phase }]);
    this.memo(summary);
  }

  /** Says `summary` in the memo, after the model and tag. */
  memo(summary: string): void {
    upsertMemo({ summary: `${this.input.model} ${this.input.tag}: ${summary}` });
  }
}
