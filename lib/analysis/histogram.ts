/**
 * Cumulative histograms as Prometheus exposes them (`_bucket{le=...}` counts), in a JSON-safe
 * form: finite upper bounds with cumulative counts, plus the total (the `+Inf` bucket). Pure.
 *
 * @module
 */
import { z } from 'zod';

/** One finite bucket: how many observations were `<= le` (cumulative, as Prometheus counts). */
export const HistogramBucketSchema = z.object({ le: z.number(), count: z.number().nonnegative() });
/** One finite bucket: how many observations were `<= le`. */
export type HistogramBucket = z.infer<typeof HistogramBucketSchema>;

/**
 * A cumulative histogram over a window: finite buckets sorted by `le` and the total count (the
 * `+Inf` bucket, which JSON cannot spell as a number).
 */
export const HistogramSchema = z.object({
  buckets: z.array(HistogramBucketSchema),
  count: z.number().nonnegative(),
});
/** A cumulative histogram over a window. */
export type Histogram = z.infer<typeof HistogramSchema>;

/** An empty histogram (no buckets, no observations). */
export const EMPTY_HISTOGRAM: Histogram = Object.freeze({ buckets: [], count: 0 }) as Histogram;

/** One non-cumulative bucket: observations in `(lower, upper]`; the last has `upper = Infinity`. */
export interface BucketRange {
  lower: number;
  upper: number;
  count: number;
}

/**
 * The histogram as non-cumulative ranges, the overflow range `(last le, +Inf]` last. Counts that
 * decrease between buckets (rounding of extrapolated `increase()` values) are clamped to 0.
 */
export function bucketRanges(h: Histogram): BucketRange[] {
  const sorted = [...h.buckets].sort((a, b) => a.le - b.le);
  const out: BucketRange[] = [];
  let prevLe = 0;
  let prevCount = 0;
  for (const b of sorted) {
    out.push({ lower: prevLe, upper: b.le, count: Math.max(0, b.count - prevCount) });
    prevLe = b.le;
    prevCount = Math.max(prevCount, b.count);
  }
  out.push({ lower: prevLe, upper: Infinity, count: Math.max(0, h.count - prevCount) });
  return out;
}

/** The number of observations in the histogram (the sum of its ranges). */
export function histogramTotal(h: Histogram): number {
  return bucketRanges(h).reduce((s, r) => s + r.count, 0);
}

/**
 * The `q`-quantile estimated the way PromQL's `histogram_quantile` does: linear interpolation inside
 * the bucket holding the rank, 0 as the lower bound of the first bucket, and the largest finite
 * `le` when the rank falls in the overflow bucket. `NaN` for an empty histogram.
 */
export function histogramQuantile(h: Histogram, q: number): number {
  const ranges = bucketRanges(h);
  const total = ranges.reduce((s, r) => s + r.count, 0);
  if (total <= 0) return NaN;
  const rank = q * total;
  let seen = 0;
  for (const r of ranges) {
    if (r.count > 0 && seen + r.count >= rank) {
      if (r.upper === Infinity) return r.lower;
      return r.lower + ((r.upper - r.lower) * (rank - seen)) / r.count;
    }
    seen += r.count;
  }
  const last = ranges[ranges.length - 1];
  return last ? last.lower : NaN;
}

/**
 * Puts two histograms on the same bucket bounds. An empty histogram takes the other's bounds; two
 * non-empty ones must share them (they come from one metric).
 *
 * @throws RangeError when both have observations and their bounds differ
 */
export function alignHistograms(a: Histogram, b: Histogram): [BucketRange[], BucketRange[]] {
  const ra = bucketRanges(a);
  const rb = bucketRanges(b);
  const bounds = (rs: BucketRange[]) => rs.map((r) => r.upper).join(',');
  if (bounds(ra) === bounds(rb)) return [ra, rb];
  const empty = (rs: BucketRange[]) => rs.every((r) => r.count === 0);
  if (empty(ra)) return [rb.map((r) => ({ ...r, count: 0 })), rb];
  if (empty(rb)) return [ra, ra.map((r) => ({ ...r, count: 0 }))];
  throw new RangeError(`histograms have different buckets: [${bounds(ra)}] vs [${bounds(rb)}]`);
}
