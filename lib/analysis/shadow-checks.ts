/**
 * Shadow checks: the shadow gets a copy of stable traffic, and its outputs are compared with the
 * stable's answers. Pure.
 *
 * - Agreement (classification): top-1 agreement over compared rows with its Wilson interval
 *   (one-sided confidence each way): `pass` when the lower bound reaches `minAgreement`, `fail`
 *   when the upper bound is below it, `inconclusive` in between (bake longer). Regression models
 *   have no top-1: `skipped`.
 * - Error rate: mirrored requests the shadow failed on, over those it answered or failed on,
 *   against `maxErrorRate` (as the canary's ceiling). Capacity drops (queue full) are reported,
 *   not counted.
 *
 * @module
 */
import { confidenceLabel, pct, queryOf, record, type CheckContext } from './check-context.ts';
import { rateCeiling } from './error-rate-check.ts';
import { histogramQuantile, histogramTotal } from './histogram.ts';
import { wilsonInterval } from './proportions.ts';
import type { CheckRecord, ShadowCounts } from './schemas.ts';

/** Top-1 agreement of the shadow with the stable against `minAgreement`. */
export function shadowAgreementCheck(ctx: CheckContext, shadow: ShadowCounts, task: 'classification' | 'regression'): CheckRecord {
  const min = ctx.thresholds.minAgreement;
  const w = wilsonInterval(shadow.agreed, shadow.comparisons, ctx.z);
  const maxAbsP95 = histogramQuantile(shadow.maxAbs, 0.95);
  const conf = confidenceLabel(ctx);
  const base = {
    check: 'shadow-agreement' as const,
    query: queryOf(ctx, 'shadowAgreement', 'shadowComparisons'),
    samples: { stable: shadow.comparisons, candidate: shadow.comparisons },
    threshold: {
      name: 'minAgreement',
      value: min,
      rule: `pass if the ${conf} Wilson lower bound ≥ minAgreement; fail if the ${conf} upper bound < minAgreement; else inconclusive`,
    },
  };
  const details = { agreed: shadow.agreed, comparisons: shadow.comparisons, lowerBound: w.lower, upperBound: w.upper, maxAbsP95 };
  if (task === 'regression') {
    return record({
      ...base,
      statistic: { name: 'top-1 agreement', value: 0, details },
      verdict: 'skipped',
      detail: `regression model: no top-1 class to agree on (p95 of max |shadow − stable| ${Number.isFinite(maxAbsP95) ? maxAbsP95.toPrecision(3) : 'n/a'})`,
    });
  }
  if (shadow.comparisons < ctx.thresholds.minRequests) {
    return record({
      ...base,
      statistic: { name: 'top-1 agreement', value: w.estimate, details },
      verdict: 'inconclusive',
      detail: `only ${Math.round(shadow.comparisons)} rows compared, need ${ctx.thresholds.minRequests}; bake longer`,
    });
  }
  const verdict = w.lower >= min ? 'pass' : w.upper < min ? 'fail' : 'inconclusive';
  const observed = `${Math.round(shadow.agreed)} of ${Math.round(shadow.comparisons)} rows agree (${pct(w.estimate)}, ${conf} bounds [${pct(w.lower)}, ${pct(w.upper)}])`;
  return record({
    ...base,
    statistic: { name: 'top-1 agreement', value: w.estimate, details },
    verdict,
    detail:
      verdict === 'pass'
        ? `${observed}: at least ${pct(min)}`
        : verdict === 'fail'
          ? `${observed}: below ${pct(min)}`
          : `${observed}: cannot tell yet whether it reaches ${pct(min)}; bake longer`,
  });
}

/** Mirrored requests the shadow failed on, against `maxErrorRate`. */
export function shadowErrorRateCheck(ctx: CheckContext, shadow: ShadowCounts): CheckRecord {
  const answered = histogramTotal(shadow.maxAbs);
  const total = answered + shadow.failed;
  const r = rateCeiling(
    ctx,
    { check: 'shadow-error-rate', query: queryOf(ctx, 'shadowFailed', 'shadowRequests'), samples: { stable: total, candidate: total } },
    shadow.failed,
    total,
    'mirrored requests',
  );
  return shadow.dropped > 0 ? { ...r, detail: `${r.detail} (${Math.round(shadow.dropped)} more dropped for capacity, not counted)` } : r;
}
