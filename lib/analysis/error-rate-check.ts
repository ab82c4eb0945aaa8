/**
 * Error-rate checks of a canary: the candidate's 5xx rate against an absolute ceiling, and its
 * increase over the stable's rate in the same window. Pure.
 *
 * Both are three-way with one-sided score bounds, so a handful of errors in a small sample is not
 * enough to fail:
 *
 * - `fail` when the lower confidence bound is above the threshold (the candidate is worse, with
 *   the configured confidence);
 * - `inconclusive` when the observed value is above the threshold but the bound is not (bake longer);
 * - `pass` when the observed value is within the threshold.
 *
 * The ceiling uses the Wilson interval of the candidate's rate; the increase uses Newcombe's hybrid
 * score interval of `candidate − stable`.
 *
 * @module
 */
import { confidenceLabel, pct, queryOf, record, type CheckContext } from './check-context.ts';
import { newcombeDifference, wilsonInterval } from './proportions.ts';
import type { CheckRecord, CheckVerdict, VariantCounts } from './schemas.ts';

function threeWay(estimate: number, lower: number, threshold: number): CheckVerdict {
  if (lower > threshold) return 'fail';
  if (estimate > threshold) return 'inconclusive';
  return 'pass';
}

/** A failure count against an absolute ceiling (shared by the canary and shadow error checks). */
export function rateCeiling(
  ctx: CheckContext,
  base: Pick<CheckRecord, 'check' | 'query' | 'samples'>,
  failures: number,
  total: number,
  what: string,
): CheckRecord {
  const max = ctx.thresholds.maxErrorRate;
  const w = wilsonInterval(failures, total, ctx.z);
  const tooFew = total < ctx.thresholds.minRequests;
  const verdict: CheckVerdict = tooFew ? 'inconclusive' : threeWay(w.estimate, w.lower, max);
  const conf = confidenceLabel(ctx);
  const observed = `${Math.round(failures)} of ${Math.round(total)} ${what} failed (${pct(w.estimate)}; ${conf} lower bound ${pct(w.lower)})`;
  const detail = tooFew
    ? `${observed}: fewer than ${ctx.thresholds.minRequests} ${what}, bake longer`
    : verdict === 'fail'
      ? `${observed}: above the ceiling ${pct(max)}`
      : verdict === 'inconclusive'
        ? `${observed}: the rate is above the ceiling ${pct(max)} but not significantly yet; bake longer`
        : `${observed}: within the ceiling ${pct(max)}`;
  return record({
    ...base,
    statistic: { name: 'error rate', value: w.estimate, details: { failures, total, lowerBound: w.lower, upperBound: w.upper } },
    threshold: {
      name: 'maxErrorRate',
      value: max,
      rule: `fail if the ${conf} Wilson lower bound of the rate > maxErrorRate; inconclusive if only the observed rate is`,
    },
    verdict,
    detail,
  });
}

/** The candidate's 5xx rate against `maxErrorRate`. */
export function errorRateCheck(ctx: CheckContext, stable: VariantCounts, candidate: VariantCounts): CheckRecord {
  return rateCeiling(
    ctx,
    { check: 'error-rate', query: queryOf(ctx, 'errors', 'requests'), samples: { stable: stable.requests, candidate: candidate.requests } },
    candidate.errors,
    candidate.requests,
    'candidate requests',
  );
}

/** The candidate's 5xx rate minus the stable's, against `maxErrorRateIncrease`. */
export function errorRateIncreaseCheck(ctx: CheckContext, stable: VariantCounts, candidate: VariantCounts): CheckRecord {
  const max = ctx.thresholds.maxErrorRateIncrease;
  const d = newcombeDifference(candidate.errors, candidate.requests, stable.errors, stable.requests, ctx.z);
  const tooFew = Math.min(stable.requests, candidate.requests) < ctx.thresholds.minRequests;
  const verdict: CheckVerdict = tooFew ? 'inconclusive' : threeWay(d.estimate, d.lower, max);
  const cRate = candidate.requests > 0 ? candidate.errors / candidate.requests : 0;
  const sRate = stable.requests > 0 ? stable.errors / stable.requests : 0;
  const conf = confidenceLabel(ctx);
  const observed = `candidate ${pct(cRate)} vs stable ${pct(sRate)} errors: increase ${pct(d.estimate)} (${conf} lower bound ${pct(d.lower)})`;
  const detail = tooFew
    ? `${observed}: fewer than ${ctx.thresholds.minRequests} requests on a variant, bake longer`
    : verdict === 'fail'
      ? `${observed}: above the allowed increase ${pct(max)}`
      : verdict === 'inconclusive'
        ? `${observed}: above the allowed increase ${pct(max)} but not significantly yet; bake longer`
        : `${observed}: within the allowed increase ${pct(max)}`;
  return record({
    check: 'error-rate-increase',
    query: queryOf(ctx, 'errors', 'requests'),
    samples: { stable: stable.requests, candidate: candidate.requests },
    statistic: {
      name: 'error rate increase (candidate − stable)',
      value: d.estimate,
      details: { candidateRate: cRate, stableRate: sRate, lowerBound: d.lower, upperBound: d.upper, candidateErrors: candidate.errors, stableErrors: stable.errors },
    },
    threshold: {
      name: 'maxErrorRateIncrease',
      value: max,
      rule: `fail if the ${conf} Newcombe lower bound of (candidate − stable) > maxErrorRateIncrease; inconclusive if only the observed increase is`,
    },
    verdict,
    detail,
  });
}
