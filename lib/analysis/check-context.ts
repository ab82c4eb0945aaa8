/**
 * What every check function receives, and small formatting helpers for their `detail` lines. Pure.
 *
 * @module
 */
import { normalQuantile } from './normal.ts';
import type { AnalysisThresholds, CheckRecord } from './schemas.ts';

/** The thresholds of one analysis and the statistical constants derived from them. */
export interface CheckContext {
  thresholds: AnalysisThresholds;
  /** Normal quantile of the one-sided confidence (1.645 at 95%). */
  z: number;
  /** Significance level of the tests, `1 − confidence`. */
  alpha: number;
  /** The query behind each quantity (see {@link WindowObservation.queries}). */
  queries: Readonly<Record<string, string>>;
  /** Length of the observed window in seconds, when known (rates and time-to-enough-traffic). */
  windowSeconds?: number;
}

/** The context for `thresholds`, the queries of a window and its length. */
export function checkContext(thresholds: AnalysisThresholds, queries: Readonly<Record<string, string>> = {}, windowSeconds?: number): CheckContext {
  return {
    thresholds,
    z: normalQuantile(thresholds.confidence),
    alpha: 1 - thresholds.confidence,
    queries,
    ...(windowSeconds !== undefined && windowSeconds > 0 ? { windowSeconds } : {}),
  };
}

/** The query recorded for a quantity, or `unknown`. */
export function queryOf(ctx: CheckContext, ...keys: string[]): string {
  const found = keys.map((k) => ctx.queries[k]).filter((q): q is string => typeof q === 'string');
  return [...new Set(found)].join('\n') || 'unknown';
}

/** `0.0123` → `1.23%`. */
export function pct(x: number): string {
  return `${(x * 100).toFixed(2)}%`;
}

/** Seconds as milliseconds with 3 significant digits: `0.00231` → `2.31 ms`. */
export function ms(seconds: number): string {
  return Number.isFinite(seconds) ? `${Number((seconds * 1000).toPrecision(3))} ms` : 'n/a';
}

/** Replaces non-finite numbers (which JSON cannot carry) with 0 in a statistic's details. */
export function finite(details: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(details).map(([k, v]) => [k, Number.isFinite(v) ? v : 0]));
}

/** A check record with non-finite numbers made JSON-safe. */
export function record(r: CheckRecord): CheckRecord {
  return {
    ...r,
    statistic: { ...r.statistic, value: Number.isFinite(r.statistic.value) ? r.statistic.value : 0, details: finite(r.statistic.details) },
  };
}

/** The confidence as a short percentage: `0.95` → `95%`. */
export function confidenceLabel(ctx: CheckContext): string {
  return `${Number((ctx.thresholds.confidence * 100).toFixed(2))}%`;
}
