/**
 * The latency check of a canary, Kayenta-style: candidate vs stable over the same window, not a
 * fixed threshold alone. Pure.
 *
 * It fails only when both hold:
 *
 * 1. the one-sided Mann–Whitney U test on the two duration histograms says the candidate is
 *    slower (p < α; each bucket a group of tied ranks, see {@link mannWhitneyHistograms}), and
 * 2. the effect is large enough to matter: the candidate's median, estimated from the buckets as
 *    PromQL's `histogram_quantile` does, is more than `maxLatencyIncrease` (relative) and more
 *    than `minLatencyIncreaseMs` (absolute) above the stable's — a sub-millisecond engine moves by
 *    a tenth of a millisecond with the machine's load, which is a large relative change no user
 *    sees.
 *
 * A significant but small shift passes (large samples make tiny shifts significant); a large but
 * not significant one passes too (no evidence). Medians from buckets are only as precise as the
 * buckets: a shift inside one bucket shows as a proportional shift of the interpolated median.
 * Latency counts successful (200) requests only; errors are the error checks' concern.
 *
 * @module
 */
import { ms, pct, queryOf, record, type CheckContext } from './check-context.ts';
import { histogramQuantile, histogramTotal } from './histogram.ts';
import { mannWhitneyHistograms } from './mann-whitney.ts';
import type { CheckRecord, VariantCounts } from './schemas.ts';

/** Candidate latency vs stable latency over one window. */
export function latencyCheck(ctx: CheckContext, stable: VariantCounts, candidate: VariantCounts): CheckRecord {
  const { maxLatencyIncrease: max, minLatencyIncreaseMs: minMs, minRequests } = ctx.thresholds;
  const nS = histogramTotal(stable.latency);
  const nC = histogramTotal(candidate.latency);
  const medS = histogramQuantile(stable.latency, 0.5);
  const medC = histogramQuantile(candidate.latency, 0.5);
  const p95S = histogramQuantile(stable.latency, 0.95);
  const p95C = histogramQuantile(candidate.latency, 0.95);
  const increase = medS > 0 ? (medC - medS) / medS : 0;
  const base = {
    check: 'latency' as const,
    query: queryOf(ctx, 'latency'),
    samples: { stable: nS, candidate: nC },
    threshold: {
      name: 'maxLatencyIncrease',
      value: max,
      rule: `fail if Mann–Whitney U (one-sided, candidate slower) has p < ${Number(ctx.alpha.toFixed(4))} and the median from buckets rose by more than maxLatencyIncrease and by more than ${minMs} ms`,
    },
  };
  const medians = `median ${ms(medC)} vs ${ms(medS)} (${increase >= 0 ? '+' : ''}${pct(increase)}), p95 ${ms(p95C)} vs ${ms(p95S)}`;
  if (Math.min(nS, nC) < minRequests) {
    return record({
      ...base,
      statistic: { name: 'median relative increase', value: increase, details: { stableMedian: medS, candidateMedian: medC, stableP95: p95S, candidateP95: p95C } },
      verdict: 'inconclusive',
      detail: `only ${Math.round(nS)} stable and ${Math.round(nC)} candidate successful requests timed, need ${minRequests} each; bake longer`,
    });
  }
  const mw = mannWhitneyHistograms(candidate.latency, stable.latency);
  const significant = mw.pValue < ctx.alpha;
  const large = increase > max && (medC - medS) * 1000 > minMs;
  const verdict = significant && large ? 'fail' : 'pass';
  const why =
    verdict === 'fail'
      ? `candidate is slower: ${medians}, above the allowed ${pct(max)} and ${minMs} ms; Mann–Whitney p = ${mw.pValue.toPrecision(3)}`
      : significant
        ? `candidate is slightly slower (p = ${mw.pValue.toPrecision(3)}) but within the allowed ${pct(max)} or ${minMs} ms: ${medians}`
        : `no evidence the candidate is slower (Mann–Whitney p = ${mw.pValue.toPrecision(3)}): ${medians}`;
  return record({
    ...base,
    statistic: {
      name: 'median relative increase',
      value: increase,
      details: {
        pValue: mw.pValue,
        u: mw.u,
        z: mw.z,
        commonLanguage: mw.commonLanguage,
        rankBiserial: mw.rankBiserial,
        stableMedian: medS,
        candidateMedian: medC,
        stableP95: p95S,
        candidateP95: p95C,
      },
    },
    verdict,
    detail: why,
  });
}
