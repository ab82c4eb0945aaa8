/**
 * Live accuracy where requests carry labels: candidate vs stable top-1 accuracy over the same
 * window. Pure.
 *
 * Labels are optional, so without at least `minRequests` labelled rows per variant the check is
 * `skipped` (it does not hold the analysis back). With them, it fails only when the candidate's
 * Wilson upper bound is below the stable's Wilson lower bound minus `maxAccuracyDrop` (bounds
 * one-sided at the configured confidence): the candidate is worse by more than the tolerated drop,
 * beyond noise. Otherwise it passes.
 *
 * @module
 */
import { confidenceLabel, pct, queryOf, record, type CheckContext } from './check-context.ts';
import { wilsonInterval } from './proportions.ts';
import type { CheckRecord, VariantCounts } from './schemas.ts';

/** Candidate accuracy vs stable accuracy on labelled rows. */
export function accuracyCheck(ctx: CheckContext, stable: VariantCounts, candidate: VariantCounts): CheckRecord {
  const s = wilsonInterval(stable.correct, stable.labelled, ctx.z);
  const c = wilsonInterval(candidate.correct, candidate.labelled, ctx.z);
  const min = ctx.thresholds.minRequests;
  const conf = confidenceLabel(ctx);
  const observed = `candidate ${pct(c.estimate)} [${pct(c.lower)}, ${pct(c.upper)}] vs stable ${pct(s.estimate)} [${pct(s.lower)}, ${pct(s.upper)}]`;
  const enough = Math.min(stable.labelled, candidate.labelled) >= min;
  const drop = ctx.thresholds.maxAccuracyDrop;
  const floor = s.lower - drop;
  const verdict = !enough ? 'skipped' : c.upper < floor ? 'fail' : 'pass';
  return record({
    check: 'accuracy',
    query: queryOf(ctx, 'accuracy'),
    samples: { stable: stable.labelled, candidate: candidate.labelled },
    statistic: {
      name: 'accuracy difference (candidate − stable)',
      value: c.estimate - s.estimate,
      details: { candidateAccuracy: c.estimate, candidateUpper: c.upper, candidateLower: c.lower, stableAccuracy: s.estimate, stableLower: s.lower, stableUpper: s.upper },
    },
    threshold: { name: 'stable lower bound − maxAccuracyDrop', value: floor, rule: `fail if the candidate's ${conf} Wilson upper bound < the stable's ${conf} Wilson lower bound − ${pct(drop)}` },
    verdict,
    detail: !enough
      ? `${Math.round(stable.labelled)} stable and ${Math.round(candidate.labelled)} candidate labelled rows, fewer than ${min} each: accuracy not compared`
      : verdict === 'fail'
        ? `candidate is less accurate by more than ${pct(drop)} beyond noise: ${observed}`
        : `accuracy ${observed}: no significant drop`,
  });
}
