/**
 * Type-only view of the analysis shapes, for workflows that import types without the schemas.
 *
 * @module
 */
export type {
  AnalysisMode,
  AnalysisResult,
  AnalysisThresholds,
  AnalysisThresholdsInput,
  AnalyzeCanaryInput,
  AnalyzeCanaryInputArg,
  CheckName,
  CheckRecord,
  CheckVerdict,
  MetricsSourceKind,
  ShadowCounts,
  VariantCounts,
  Verdict,
  Window,
  WindowObservation,
} from './schemas.ts';
export type { Histogram, HistogramBucket } from './histogram.ts';
