/**
 * The shapes the canary analysis shares with the workflow and the CLI: thresholds, what a metrics
 * source observed over a window, the activity's input, and the decision records it returns.
 *
 * @module
 */
import { z } from 'zod';
import { HistogramSchema } from './histogram.ts';

/** Analysis modes: shadow (mirrored traffic, outputs compared) or canary (split live traffic). */
export const AnalysisMode = { Shadow: 'shadow', Canary: 'canary' } as const;
/** An analysis mode. */
export type AnalysisMode = (typeof AnalysisMode)[keyof typeof AnalysisMode];

/** Where the numbers came from: a Prometheus server, or two scrapes of the runtime's `/metrics`. */
export const MetricsSourceKind = { Prometheus: 'prometheus', Scrape: 'scrape' } as const;
/** A metrics source kind. */
export type MetricsSourceKind = (typeof MetricsSourceKind)[keyof typeof MetricsSourceKind];

/** Verdicts of a whole analysis. `inconclusive`: not enough evidence yet; bake longer. */
export const Verdict = { Pass: 'pass', Fail: 'fail', Inconclusive: 'inconclusive' } as const;
/** A verdict of a whole analysis. */
export type Verdict = (typeof Verdict)[keyof typeof Verdict];

/** Verdicts of one check: an analysis verdict, or `skipped` (an optional check without data). */
export const CheckVerdict = { ...Verdict, Skipped: 'skipped' } as const;
/** A verdict of one check. */
export type CheckVerdict = (typeof CheckVerdict)[keyof typeof CheckVerdict];

/** The checks an analysis may run. */
export const CheckName = {
  /** Enough requests (canary) or compared rows (shadow) per variant; else the analysis is inconclusive. */
  Traffic: 'traffic',
  /** The candidate's 5xx rate against the absolute ceiling `maxErrorRate`. */
  ErrorRate: 'error-rate',
  /** The candidate's 5xx rate minus the stable's against `maxErrorRateIncrease`. */
  ErrorRateIncrease: 'error-rate-increase',
  /** Latency: Mann–Whitney U on the duration histograms, and the median's relative increase. */
  Latency: 'latency',
  /** Live accuracy on labelled requests, candidate vs stable (only where labels exist). */
  Accuracy: 'accuracy',
  /** Top-1 agreement of the shadow with the stable against `minAgreement`. */
  ShadowAgreement: 'shadow-agreement',
  /** Share of mirrored requests the shadow failed on, against `maxErrorRate`. */
  ShadowErrorRate: 'shadow-error-rate',
} as const;
/** A check name. */
export type CheckName = (typeof CheckName)[keyof typeof CheckName];

/**
 * The analysis thresholds when the manifest says nothing: the one place they are written (the
 * manifest schema and the analysis both default to these).
 */
export const DEFAULT_ANALYSIS_THRESHOLDS = {
  maxErrorRate: 0.01,
  maxErrorRateIncrease: 0.005,
  maxLatencyIncrease: 0.2,
  minLatencyIncreaseMs: 0.25,
  maxAccuracyDrop: 0.02,
  minAgreement: 0.98,
  minRequests: 50,
} as const;

/**
 * Analysis thresholds: the manifest's `rollout.analysis` (its `interval` is ignored here) plus the
 * one-sided confidence of the statistical bounds and tests.
 */
export const AnalysisThresholdsSchema = z.object({
  maxErrorRate: z.number().min(0).max(1).default(DEFAULT_ANALYSIS_THRESHOLDS.maxErrorRate),
  maxErrorRateIncrease: z.number().min(0).max(1).default(DEFAULT_ANALYSIS_THRESHOLDS.maxErrorRateIncrease),
  maxLatencyIncrease: z.number().min(0).default(DEFAULT_ANALYSIS_THRESHOLDS.maxLatencyIncrease),
  /**
   * The least rise of the median, in milliseconds, that fails the latency check (with
   * `maxLatencyIncrease`): sub-millisecond engines shift by a tenth of a millisecond with the
   * machine's load, a relative change no user sees.
   */
  minLatencyIncreaseMs: z.number().min(0).default(DEFAULT_ANALYSIS_THRESHOLDS.minLatencyIncreaseMs),
  /**
   * The live-accuracy drop (absolute, 0.02 = 2 points) the accuracy check tolerates: it fails only
   * when the candidate is worse than the stable by more than this, beyond noise. The analysis runs
   * every interval over a growing window, and a small canary sees few labelled rows: without a
   * margin, one unlucky window of a model as good as the stable rolls it back.
   */
  maxAccuracyDrop: z.number().min(0).max(1).default(DEFAULT_ANALYSIS_THRESHOLDS.maxAccuracyDrop),
  minAgreement: z.number().min(0).max(1).default(DEFAULT_ANALYSIS_THRESHOLDS.minAgreement),
  minRequests: z.int().nonnegative().default(DEFAULT_ANALYSIS_THRESHOLDS.minRequests),
  /** One-sided confidence of bounds and tests: 0.95 means bounds at z = 1.645 and α = 0.05. */
  confidence: z.number().gt(0.5).lt(1).default(0.95),
});
/** Analysis thresholds, defaults applied. */
export type AnalysisThresholds = z.infer<typeof AnalysisThresholdsSchema>;
/** Analysis thresholds as given (any field may be left to its default). */
export type AnalysisThresholdsInput = z.input<typeof AnalysisThresholdsSchema>;

/** What one variant (a model version) served over the window. */
export const VariantCountsSchema = z.object({
  version: z.string(),
  /** Inference requests answered, every status code. */
  requests: z.number().nonnegative(),
  /** Requests answered with a 5xx status. */
  errors: z.number().nonnegative(),
  /** Latency of successful (200) requests, seconds. */
  latency: HistogramSchema,
  /** Rows that carried a label, and those whose top-1 matched it. */
  labelled: z.number().nonnegative(),
  correct: z.number().nonnegative(),
});
/** What one variant served over the window. */
export type VariantCounts = z.infer<typeof VariantCountsSchema>;

/** What the shadow did over the window (mirrored requests compared with the stable's answers). */
export const ShadowCountsSchema = z.object({
  stableVersion: z.string(),
  shadowVersion: z.string(),
  /** Rows compared with the stable's outputs. */
  comparisons: z.number().nonnegative(),
  /** Compared rows whose top-1 class agreed. */
  agreed: z.number().nonnegative(),
  /** Mirrored requests the shadow failed on (`modelship_shadow_dropped_total{reason="failed"}`). */
  failed: z.number().nonnegative(),
  /** Mirrored requests dropped for capacity (`queue_full`, `unloaded`, `invalid_for_shadow`): not the model's fault. */
  dropped: z.number().nonnegative(),
  /** Per request max |shadow − stable| over the outputs. */
  maxAbs: HistogramSchema,
});
/** What the shadow did over the window. */
export type ShadowCounts = z.infer<typeof ShadowCountsSchema>;

/** An analysis window, ISO 8601 instants. */
export const WindowSchema = z.object({ start: z.iso.datetime(), end: z.iso.datetime() });
/** An analysis window. */
export type Window = z.infer<typeof WindowSchema>;

/** Everything a metrics source observed for one analysis: the input of the pure verdict logic. */
export const WindowObservationSchema = z.object({
  source: z.enum(['prometheus', 'scrape']),
  window: WindowSchema,
  /** The query behind each quantity (`requests`, `errors`, `latency`, `accuracy`, `shadow`...), or `scrape`. */
  queries: z.record(z.string(), z.string()),
  stable: VariantCountsSchema,
  candidate: VariantCountsSchema,
  shadow: ShadowCountsSchema.optional(),
});
/** Everything a metrics source observed for one analysis. */
export type WindowObservation = z.infer<typeof WindowObservationSchema>;

/** One check's decision record: what was measured, against what, and what it decided. */
export const CheckRecordSchema = z.object({
  check: z.enum(Object.values(CheckName) as [CheckName, ...CheckName[]]),
  /** The PromQL the numbers came from, or `scrape`. */
  query: z.string(),
  /** Observations per variant the check used (requests, rows or latency observations). */
  samples: z.object({ stable: z.number().nonnegative(), candidate: z.number().nonnegative() }),
  /** The statistic compared with the threshold, and the numbers behind it. */
  statistic: z.object({ name: z.string(), value: z.number(), details: z.record(z.string(), z.number()) }),
  /** The threshold and the rule applied. */
  threshold: z.object({ name: z.string(), value: z.number(), rule: z.string() }),
  verdict: z.enum(['pass', 'fail', 'inconclusive', 'skipped']),
  /** One sentence a person can read in the UI. */
  detail: z.string(),
});
/** One check's decision record. */
export type CheckRecord = z.infer<typeof CheckRecordSchema>;

/** The result of one analysis: the verdict and every check behind it. */
export const AnalysisResultSchema = z.object({
  verdict: z.enum(['pass', 'fail', 'inconclusive']),
  mode: z.enum(['shadow', 'canary']),
  model: z.string(),
  stableVersion: z.string(),
  candidateVersion: z.string(),
  checks: z.array(CheckRecordSchema),
  window: WindowSchema,
  source: z.enum(['prometheus', 'scrape']),
  thresholds: AnalysisThresholdsSchema,
  /** One line summing up the verdict (the failing or inconclusive checks). */
  summary: z.string(),
});
/** The result of one analysis. */
export type AnalysisResult = z.infer<typeof AnalysisResultSchema>;

/** The input of the `analyzeCanary` activity. */
export const AnalyzeCanaryInputSchema = z.object({
  model: z.string().min(1),
  stableVersion: z.string().min(1),
  /** The candidate's version (the shadow's, in shadow mode). */
  candidateVersion: z.string().min(1),
  /** Length of the window ending now (Prometheus), or to observe from now (scrape). */
  windowSeconds: z.int().positive(),
  thresholds: AnalysisThresholdsSchema.prefault({}),
  mode: z.enum(['shadow', 'canary']),
  /** Regression models have no top-1 class: shadow agreement is skipped. */
  task: z.enum(['classification', 'regression']).default('classification'),
});
/** The input of `analyzeCanary`, defaults applied. */
export type AnalyzeCanaryInput = z.infer<typeof AnalyzeCanaryInputSchema>;
/** The input of `analyzeCanary` as a caller writes it. */
export type AnalyzeCanaryInputArg = z.input<typeof AnalyzeCanaryInputSchema>;
