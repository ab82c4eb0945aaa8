/**
 * The Mann–Whitney U test (Wilcoxon rank-sum), one-sided "candidate is slower": on two raw samples,
 * and on two histograms of the same metric over the same window.
 *
 * On histograms each bucket is one group of tied ranks: every observation in `(lower, upper]` is
 * treated as equal to the others in that bucket, which is exactly the test on samples rounded up to
 * their bucket's bound. Ties only lower the power of the test (the tie correction shrinks the
 * variance accordingly); they never make a same-distribution candidate look slower.
 *
 * Normal approximation with tie correction and continuity correction, as SciPy's
 * `mannwhitneyu(candidate, stable, alternative='greater', method='asymptotic')`. Pure.
 *
 * @module
 */
import { alignHistograms, type Histogram } from './histogram.ts';
import { normalSf } from './normal.ts';

/** Observations of both samples that share one value (or one histogram bucket). */
export interface TieGroup {
  candidate: number;
  stable: number;
}

/** The outcome of a one-sided Mann–Whitney U test of "candidate is larger than stable". */
export interface MannWhitneyResult {
  /** U of the candidate: pairs (candidate, stable) where the candidate is larger, ties counting ½. */
  u: number;
  nCandidate: number;
  nStable: number;
  /** The standardized statistic (tie- and continuity-corrected); 0 when undefined. */
  z: number;
  /** One-sided p-value of "candidate larger"; 1 when either sample is empty or all values tie. */
  pValue: number;
  /** Common-language effect size `U / (n₁ n₂)`: P(candidate > stable) + ½ P(tie); 0.5 = no shift. */
  commonLanguage: number;
  /** Rank-biserial correlation `2·CL − 1`, in [−1, 1]; positive when the candidate is larger. */
  rankBiserial: number;
}

/**
 * The test from tie groups in ascending order of value (the common core of the sample and the
 * histogram forms).
 */
export function mannWhitneyFromGroups(groups: readonly TieGroup[]): MannWhitneyResult {
  let n1 = 0;
  let n2 = 0;
  let rankSum = 0;
  let tieTerm = 0;
  let before = 0;
  for (const g of groups) {
    const t = g.candidate + g.stable;
    if (t <= 0) continue;
    rankSum += g.candidate * (before + (t + 1) / 2);
    tieTerm += t * t * t - t;
    before += t;
    n1 += g.candidate;
    n2 += g.stable;
  }
  if (n1 === 0 || n2 === 0) return { u: 0, nCandidate: n1, nStable: n2, z: 0, pValue: 1, commonLanguage: 0.5, rankBiserial: 0 };
  const n = n1 + n2;
  const u = rankSum - (n1 * (n1 + 1)) / 2;
  const mu = (n1 * n2) / 2;
  const variance = ((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1)));
  const cl = u / (n1 * n2);
  if (!(variance > 0)) return { u, nCandidate: n1, nStable: n2, z: 0, pValue: 1, commonLanguage: cl, rankBiserial: 2 * cl - 1 };
  const z = (u - mu - 0.5) / Math.sqrt(variance);
  return { u, nCandidate: n1, nStable: n2, z, pValue: normalSf(z), commonLanguage: cl, rankBiserial: 2 * cl - 1 };
}

/** The test on two raw samples (e.g. latencies in seconds). */
export function mannWhitneySamples(candidate: readonly number[], stable: readonly number[]): MannWhitneyResult {
  const all = [...candidate.map((v) => ({ v, c: 1 })), ...stable.map((v) => ({ v, c: 0 }))].sort((a, b) => a.v - b.v);
  const groups: TieGroup[] = [];
  let i = 0;
  while (i < all.length) {
    const v = all[i]!.v;
    const g: TieGroup = { candidate: 0, stable: 0 };
    while (i < all.length && all[i]!.v === v) {
      if (all[i]!.c) g.candidate += 1;
      else g.stable += 1;
      i += 1;
    }
    groups.push(g);
  }
  return mannWhitneyFromGroups(groups);
}

/**
 * The test on two histograms of one metric over one window, each bucket a group of tied ranks.
 * Fractional counts (from PromQL's extrapolating `increase()`) are rounded to whole observations.
 *
 * @throws RangeError when both histograms have observations and different bucket bounds
 */
export function mannWhitneyHistograms(candidate: Histogram, stable: Histogram): MannWhitneyResult {
  const [rc, rs] = alignHistograms(candidate, stable);
  return mannWhitneyFromGroups(rc.map((r, i) => ({ candidate: Math.round(r.count), stable: Math.round(rs[i]!.count) })));
}
