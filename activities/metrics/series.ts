/**
 * The serving runtime's metric names (toolkit/modelship_toolkit/serve/metrics.py) and how a
 * window's samples — per-series increases from two scrapes, or PromQL `increase()` results — turn
 * into the counts the analysis reads. Both metrics sources share this, so they cannot disagree on
 * what a request, an error or a bucket is.
 *
 * @module
 */
import type { Histogram, ShadowCounts, VariantCounts } from '../../lib/analysis/index.ts';
import type { Sample } from './exposition.ts';

/** Metric names as exposed (counters with their `_total` suffix). */
export const Metric = {
  Requests: 'modelship_requests_total',
  DurationBucket: 'modelship_request_duration_seconds_bucket',
  Labelled: 'modelship_labelled_predictions_total',
  Correct: 'modelship_correct_predictions_total',
  ShadowComparisons: 'modelship_shadow_comparisons_total',
  ShadowAgreement: 'modelship_shadow_agreement_total',
  ShadowMaxAbsBucket: 'modelship_shadow_max_abs_bucket',
  ShadowDropped: 'modelship_shadow_dropped_total',
} as const;
/** A metric name the analysis reads. */
export type Metric = (typeof Metric)[keyof typeof Metric];

/** Status codes counted as errors: server-side failures (5xx: engine error, overload, timeout). Client errors (4xx) are not the model's. */
export const ERROR_CODE = /^5\d\d$/;
/** The same rule in PromQL. */
export const ERROR_CODE_PROMQL = '5..';
/** The shadow drop reason that is the shadow's fault; the others are capacity. */
export const SHADOW_FAILED_REASON = 'failed';

/** Which series one analysis reads. */
export interface SeriesSelection {
  model: string;
  stableVersion: string;
  candidateVersion: string;
}

type Match = Record<string, string | RegExp>;

function matches(s: Sample, name: string, match: Match): boolean {
  if (s.name !== name) return false;
  return Object.entries(match).every(([k, want]) => {
    const v = s.labels[k];
    if (v === undefined) return false;
    return typeof want === 'string' ? v === want : want.test(v);
  });
}

/** Sum of the samples of `name` whose labels match (strings exactly, regexes by test). */
export function sumOf(samples: readonly Sample[], name: string, match: Match = {}): number {
  let total = 0;
  for (const s of samples) if (matches(s, name, match) && Number.isFinite(s.value)) total += s.value;
  return total;
}

/** A cumulative histogram from `_bucket` samples (summed per `le`) whose labels match. */
export function histogramOf(samples: readonly Sample[], bucketName: string, match: Match = {}): Histogram {
  const byLe = new Map<string, number>();
  for (const s of samples) {
    if (!matches(s, bucketName, match) || s.labels.le === undefined || !Number.isFinite(s.value)) continue;
    byLe.set(s.labels.le, (byLe.get(s.labels.le) ?? 0) + s.value);
  }
  let count = 0;
  const buckets: Histogram['buckets'] = [];
  for (const [le, c] of byLe) {
    const bound = le === '+Inf' ? Infinity : Number(le);
    if (bound === Infinity) count = c;
    else if (Number.isFinite(bound)) buckets.push({ le: bound, count: c });
  }
  buckets.sort((a, b) => a.le - b.le);
  if (!byLe.has('+Inf')) count = buckets.at(-1)?.count ?? 0;
  return { buckets, count };
}

/** A variant's counts (by model and version) from a window's samples. */
export function variantCounts(samples: readonly Sample[], model: string, version: string): VariantCounts {
  const m = { model, version };
  return {
    version,
    requests: sumOf(samples, Metric.Requests, m),
    errors: sumOf(samples, Metric.Requests, { ...m, code: ERROR_CODE }),
    latency: histogramOf(samples, Metric.DurationBucket, m),
    labelled: sumOf(samples, Metric.Labelled, m),
    correct: sumOf(samples, Metric.Correct, m),
  };
}

/** The shadow's counts (by model, stable and shadow version) from a window's samples. */
export function shadowCounts(samples: readonly Sample[], sel: SeriesSelection): ShadowCounts {
  const pair = { model: sel.model, stable_version: sel.stableVersion, shadow_version: sel.candidateVersion };
  return {
    stableVersion: sel.stableVersion,
    shadowVersion: sel.candidateVersion,
    comparisons: sumOf(samples, Metric.ShadowComparisons, pair),
    agreed: sumOf(samples, Metric.ShadowAgreement, pair),
    failed: sumOf(samples, Metric.ShadowDropped, { model: sel.model, reason: SHADOW_FAILED_REASON }),
    dropped: sumOf(samples, Metric.ShadowDropped, { model: sel.model, reason: /^(?!failed$)/ }),
    maxAbs: histogramOf(samples, Metric.ShadowMaxAbsBucket, pair),
  };
}
