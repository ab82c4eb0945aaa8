/**
 * Confidence bounds for proportions: the Wilson score interval for one rate, and Newcombe's hybrid
 * score interval for the difference of two (candidate − stable). Both behave well with zero
 * events and small samples, where the Wald interval collapses to a point. Pure.
 *
 * @module
 */

/** A proportion with its confidence bounds. */
export interface ProportionInterval {
  /** The observed rate `x / n` (0 when `n` is 0). */
  estimate: number;
  lower: number;
  upper: number;
}

/**
 * The Wilson score interval of `successes / n` for a normal quantile `z` (1.645 gives one-sided
 * 95% bounds, 1.96 two-sided 95%). With `n = 0` it is `[0, 1]`.
 */
export function wilsonInterval(successes: number, n: number, z: number): ProportionInterval {
  if (!(n > 0)) return { estimate: 0, lower: 0, upper: 1 };
  const p = Math.min(1, Math.max(0, successes / n));
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const center = (p + z2 / (2 * n)) / denom;
  const half = (z / denom) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return { estimate: p, lower: Math.max(0, center - half), upper: Math.min(1, center + half) };
}

/**
 * Newcombe's hybrid score interval (method 10, 1998) for `p₁ − p₂` = `x1/n1 − x2/n2`, built from
 * the two Wilson intervals at the same `z`.
 */
export function newcombeDifference(x1: number, n1: number, x2: number, n2: number, z: number): ProportionInterval {
  const a = wilsonInterval(x1, n1, z);
  const b = wilsonInterval(x2, n2, z);
  const d = a.estimate - b.estimate;
  return {
    estimate: d,
    lower: d - Math.sqrt((a.estimate - a.lower) ** 2 + (b.upper - b.estimate) ** 2),
    upper: d + Math.sqrt((a.upper - a.estimate) ** 2 + (b.estimate - b.lower) ** 2),
  };
}
