/**
 * Baking a step with analysis: every interval, the analysis compares the candidate (or the
 * shadow) with the stable over the window since the step began, and its record is kept; a failed
 * analysis rolls back; too little traffic extends the bake by whole intervals up to `maxBake`; a
 * long bake continues as new (continue-as-new.ts) where the server suggests it.
 *
 * @module
 */
import { patched, proxyActivities } from '@temporalio/workflow';
import type { AnalysisActivities } from '../../activities/metrics/analysis-activities.ts';
import type { AnalysisResult } from '../../lib/analysis/types.ts';
import { RETRY } from '../activity-options.ts';
import type { Approvals } from './approvals.ts';
import { continueAsNewDue, continueRollout } from './continue-as-new.ts';
import { durationMs, RollbackRequested, type RolloutRecords } from './records.ts';

const analysis = proxyActivities<AnalysisActivities>({ startToCloseTimeout: '5m', retry: RETRY });

/**
 * Most bake extensions for too little traffic before the rollout gives up and rolls back; with
 * whole-interval extensions, the default `rollout.maxBake` is the step's bake plus this many
 * analysis intervals.
 */
export const MAX_EXTENSIONS = 10;

/** One bake: what is compared, for how long, at which step. */
export interface Bake {
  mode: 'shadow' | 'canary';
  bake: string;
  step: number;
  weight: number;
  stableVersion: string;
  /** Start of the analysis window (workflow ms), when it reaches back before this bake. */
  windowFrom?: number;
  /** When the bake began (workflow ms), if an earlier run of the rollout began it; default now. */
  started?: number;
  /** When the previous canary step began (workflow ms): kept if the rollout continues as new. */
  previousStepStart?: number;
}

/**
 * Bakes for `bake`, analysing every interval over the window since the step began; a failed
 * analysis rolls back; too little traffic extends the bake. A manual rollback wakes it at once.
 */
export async function bakeWithAnalysis(records: RolloutRecords, approvals: Approvals, { mode, bake, step, weight, stableVersion, windowFrom, started = Date.now(), previousStepStart }: Bake): Promise<void> {
  const { plan, model, tag } = records.input;
  const interval = durationMs(plan.analysis.interval);
  const bakeMs = durationMs(bake);
  const from = windowFrom ?? started;
  // Before this patch an extension after the bake lasted 1 s, so ten of them ended a 1% canary
  // seconds before its traffic would have sufficed (seen on a loaded 2-core machine and on the H200).
  const wholeIntervals = patched('bake-extends-by-whole-intervals');
  // Before this patch the shadow gate judged traffic by `analysis.minRequests`, not the plan's
  // `shadow.minRequests`.
  const thresholds = mode === 'shadow' && plan.shadow && patched('shadow-gate-own-min-requests') ? { ...plan.analysis, minRequests: plan.shadow.minRequests } : plan.analysis;
  const maxBakeMs = plan.maxBake ? Math.max(bakeMs, durationMs(plan.maxBake)) : bakeMs + MAX_EXTENSIONS * interval;
  let extensions = 0;
  let last: AnalysisResult | undefined;
  for (;;) {
    const remaining = started + bakeMs - Date.now();
    await approvals.pause(wholeIntervals ? (remaining > 0 ? Math.min(interval, remaining) : interval) : Math.min(interval, Math.max(1000, remaining)));
    last = await analysis.analyzeCanary({
      model,
      stableVersion,
      candidateVersion: tag,
      windowSeconds: Math.max(1, Math.round((Date.now() - from) / 1000)),
      thresholds,
      mode,
    });
    await records.keep(records.record({ kind: mode === 'shadow' ? 'shadow-gate' : 'analysis', verdict: last.verdict, step, weight, detail: last }));
    if (last.verdict === 'fail') {
      const failed = last.checks.filter((c) => c.verdict === 'fail').map((c) => `${c.check} ${c.detail ?? ''}`.trim());
      throw new RollbackRequested(`${mode} analysis failed at ${weight}%: ${failed.join('; ')}`);
    }
    const baked = Date.now() - started >= bakeMs;
    if (baked) {
      if (last.verdict === 'pass') return;
      if (wholeIntervals) {
        if (Date.now() - started + interval > maxBakeMs) {
          const traffic = last.checks.find((c) => c.check === 'traffic' && c.verdict === 'inconclusive');
          throw new RollbackRequested(`too little traffic to judge ${mode} at ${weight}% within maxBake ${Math.round(maxBakeMs / 1000)} s${traffic?.detail ? ` (${traffic.detail})` : ''}`);
        }
      } else if (++extensions > MAX_EXTENSIONS) throw new RollbackRequested(`too little traffic to judge ${mode} at ${weight}% after ${extensions - 1} extensions`);
    }
    // A long bake's history grows by an analysis each interval: go on in a new run when the server says so.
    if (continueAsNewDue()) await continueRollout(records, approvals, { kind: 'bake', step, started, previousStepStart });
  }
}
