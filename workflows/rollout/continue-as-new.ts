/**
 * Continue-as-new for rollouts that wait long: a bake of days analyses every interval, and each
 * analysis adds an activity, a timer and a decision record to the history. When the server
 * suggests it (`limit.historyCount.suggestContinueAsNew`, `limit.historySize.suggestContinueAsNew`),
 * the rollout waits for its Update and Signal handlers to finish and continues as new with a
 * {@link RolloutCheckpoint}: the wait it was in and the status with its decision records, the
 * oldest analysis records compacted or, past {@link MAX_CARRIED_ANALYSES}, left to the artifact
 * store, so the carried input stays small however long the bake.
 *
 * @module
 */
import { allHandlersFinished, condition, continueAsNew, patched, workflowInfo } from '@temporalio/workflow';
import type { DecisionRecord, RolloutCheckpoint, RolloutInput, RolloutStatus } from '../../lib/rollout.ts';
import type { Approvals } from './approvals.ts';
import type { RolloutRecords } from './records.ts';

/** Analysis and shadow-gate records a new run carries; older ones stay only in the artifact store. */
export const MAX_CARRIED_ANALYSES = 200;

/** Analysis records carried with their whole detail (the newest); older ones keep their checks' numbers only. */
export const FULL_ANALYSES_CARRIED = 5;

const isAnalysis = (d: DecisionRecord) => d.kind === 'analysis' || d.kind === 'shadow-gate';

interface CheckLike {
  check?: unknown;
  verdict?: unknown;
  statistic?: { name?: unknown; value?: unknown };
  threshold?: { name?: unknown; value?: unknown };
}

/** An analysis record reduced to what the status and the report show: the summary and each check's statistic against its threshold. */
export function compactAnalysis(d: DecisionRecord): DecisionRecord {
  const detail = d.detail as { verdict?: unknown; summary?: unknown; checks?: CheckLike[] } | undefined;
  if (!detail || typeof detail !== 'object') return d;
  const checks = Array.isArray(detail.checks)
    ? detail.checks.map((c) => ({
        check: c.check,
        verdict: c.verdict,
        statistic: { name: c.statistic?.name, value: c.statistic?.value },
        threshold: { name: c.threshold?.name, value: c.threshold?.value },
      }))
    : undefined;
  return { ...d, detail: { verdict: detail.verdict, summary: detail.summary, checks, compacted: true } };
}

/**
 * The status a new run starts from: every record that is not an analysis; the newest
 * {@link MAX_CARRIED_ANALYSES} analysis records (all but the newest {@link FULL_ANALYSES_CARRIED}
 * compacted); the count of those left out; the run count plus one.
 */
export function carriedStatus(status: RolloutStatus): RolloutStatus {
  const analyses = status.decisions.filter(isAnalysis);
  const dropped = new Set(analyses.slice(0, Math.max(0, analyses.length - MAX_CARRIED_ANALYSES)));
  const full = new Set(analyses.slice(-FULL_ANALYSES_CARRIED));
  const decisions = status.decisions.filter((d) => !dropped.has(d)).map((d) => (isAnalysis(d) && !full.has(d) ? compactAnalysis(d) : d));
  const analysesNotCarried = (status.analysesNotCarried ?? 0) + dropped.size;
  return { ...status, decisions, runs: (status.runs ?? 1) + 1, ...(analysesNotCarried ? { analysesNotCarried } : {}) };
}

/** The patch that brought continue-as-new: histories recorded before it replay without. */
export const CONTINUE_AS_NEW_PATCH = 'rollout-continue-as-new';

/**
 * Events a run has of its own before it continues as new, whatever the server suggests: a server
 * set to suggest it very early cannot make runs that do nothing but continue.
 */
export const MIN_EVENTS_PER_RUN = 40;

/** Whether the server suggests continuing as new and this run has {@link MIN_EVENTS_PER_RUN}. */
export function serverSuggestsContinueAsNew(): boolean {
  const info = workflowInfo();
  return info.continueAsNewSuggested && info.historyLength >= MIN_EVENTS_PER_RUN;
}

/** Whether to continue as new now: the server suggests it and this run may (see {@link CONTINUE_AS_NEW_PATCH}). */
export function continueAsNewDue(): boolean {
  return serverSuggestsContinueAsNew() && patched(CONTINUE_AS_NEW_PATCH);
}

/**
 * Continues the rollout as new from the wait `at`, once every Update and Signal handler has
 * finished. What came in meanwhile wins: a manual rollback throws (the rollout rolls back), and
 * when `stillDue` says no (an approval arrived) it returns instead. Checked after the handlers
 * finished and right before continuing, so nothing that arrives can be lost in between.
 */
export async function continueRollout(records: RolloutRecords, approvals: Approvals, at: RolloutCheckpoint['at'], stillDue: () => boolean = () => true): Promise<void> {
  await condition(allHandlersFinished);
  approvals.throwIfRollback();
  if (!stillDue()) return;
  const { stableVersion, dir } = records.context;
  if (dir === undefined) throw new Error('continue-as-new before the package was staged');
  const resume: RolloutCheckpoint = { stableVersion, dir, at, status: carriedStatus(records.status) };
  await continueAsNew<(input: RolloutInput) => Promise<RolloutStatus>>({ ...records.input, resume });
}
