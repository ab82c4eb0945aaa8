/**
 * The Prometheus metrics source: instant queries of `increase(...[window])` at the window's end,
 * summed per version (and `code` or `le`), for the stable and the candidate (or shadow) of one
 * model. The queries are recorded in the observation, so every decision record shows its PromQL.
 *
 * Series born inside the window (a new candidate's, or its first `code="500"`) would lose their
 * first scrape's worth of increments to `increase()` (Prometheus 2.x has no created timestamps),
 * so each quantity is `increase()` for series that existed at the window's start, plus the value
 * at the end for series that did not (the runtime creates a series at its first increment, from
 * 0): see {@link windowIncrease}. `increase()` extrapolates to the window's edges, so counts may be
 * fractional; the analysis rounds where it needs whole observations.
 *
 * @module
 */
import type { WindowObservation } from '../../lib/analysis/index.ts';
import type { Sample } from './exposition.ts';
import { PrometheusClient, promAlternatives, promString, type PrometheusClientOptions } from './prometheus-client.ts';
import { Metric, shadowCounts, variantCounts, type SeriesSelection } from './series.ts';
import type { MetricsSource, ObserveRequest } from './source.ts';

/** Options of {@link createPrometheusSource}. */
export interface PrometheusSourceOptions extends PrometheusClientOptions {
  /** Base URL of the Prometheus server, e.g. `http://127.0.0.1:9090`. */
  url: string;
  /** The window's end (default: now); tests and replays pin it. */
  now?: () => Date;
}

interface Query {
  key: string;
  promql: string;
  /** The metric name the result's samples stand for. */
  metric: string;
}

/**
 * The increase of the series `selector` selects over `w` (e.g. `[60s]`), summed `by`:
 * `increase()` for series present at the window's start, the end value for series born inside it.
 */
export function windowIncrease(selector: string, w: string, by: string): string {
  const offset = `${selector} offset ${w.slice(1, -1)}`;
  return `sum by (${by}) ((increase(${selector}${w}) and ${offset}) or (${selector} unless ${offset}))`;
}

/** The PromQL of one observation, by quantity. */
export function buildQueries(sel: SeriesSelection, windowSeconds: number, mode: ObserveRequest['mode']): Query[] {
  const w = `[${Math.max(1, Math.round(windowSeconds))}s]`;
  const variants = `model=${promString(sel.model)},version=~${promAlternatives([sel.stableVersion, sel.candidateVersion])}`;
  const pair = `model=${promString(sel.model)},stable_version=${promString(sel.stableVersion)},shadow_version=${promString(sel.candidateVersion)}`;
  const q: Query[] = [
    { key: 'requests', metric: Metric.Requests, promql: windowIncrease(`${Metric.Requests}{${variants}}`, w, 'version, code') },
    { key: 'latency', metric: Metric.DurationBucket, promql: windowIncrease(`${Metric.DurationBucket}{${variants}}`, w, 'version, le') },
    { key: 'labelled', metric: Metric.Labelled, promql: windowIncrease(`${Metric.Labelled}{${variants}}`, w, 'version') },
    { key: 'correct', metric: Metric.Correct, promql: windowIncrease(`${Metric.Correct}{${variants}}`, w, 'version') },
  ];
  if (mode === 'shadow') {
    const by = 'stable_version, shadow_version';
    q.push(
      { key: 'shadowComparisons', metric: Metric.ShadowComparisons, promql: windowIncrease(`${Metric.ShadowComparisons}{${pair}}`, w, by) },
      { key: 'shadowAgreement', metric: Metric.ShadowAgreement, promql: windowIncrease(`${Metric.ShadowAgreement}{${pair}}`, w, by) },
      { key: 'shadowMaxAbs', metric: Metric.ShadowMaxAbsBucket, promql: windowIncrease(`${Metric.ShadowMaxAbsBucket}{${pair}}`, w, `${by}, le`) },
      { key: 'shadowDropped', metric: Metric.ShadowDropped, promql: windowIncrease(`${Metric.ShadowDropped}{model=${promString(sel.model)}}`, w, 'reason') },
    );
  }
  return q;
}

/** The query texts recorded in the observation, by the keys the checks look up. */
function recordedQueries(qs: readonly Query[]): Record<string, string> {
  const by = Object.fromEntries(qs.map((q) => [q.key, q.promql]));
  const out: Record<string, string> = {
    requests: by.requests!,
    errors: `${by.requests!}  # errors: code=~"5.."`,
    latency: by.latency!,
    accuracy: `${by.correct!}\n${by.labelled!}`,
  };
  if (by.shadowComparisons) {
    out.shadowComparisons = by.shadowComparisons;
    out.shadowAgreement = by.shadowAgreement!;
    out.shadowRequests = `${by.shadowMaxAbs!}  # requests compared: le="+Inf"\n${by.shadowDropped!}  # failed: reason="failed"`;
    out.shadowFailed = `${by.shadowDropped!}  # reason="failed"`;
  }
  return out;
}

/** A metrics source reading a Prometheus server that scrapes the serving runtime. */
export function createPrometheusSource(opts: PrometheusSourceOptions): MetricsSource & { client: PrometheusClient } {
  const client = new PrometheusClient(opts.url, opts);
  return {
    kind: 'prometheus',
    client,
    async observe(req: ObserveRequest): Promise<WindowObservation> {
      const end = opts.now?.() ?? new Date();
      const start = new Date(end.getTime() - req.windowSeconds * 1000);
      const queries = buildQueries(req, req.windowSeconds, req.mode);
      const results = await Promise.all(queries.map((q) => client.query(q.promql, end)));
      const samples: Sample[] = results.flatMap((rs, i) => rs.map((s) => ({ ...s, name: queries[i]!.metric, labels: { model: req.model, ...s.labels } })));
      return {
        source: 'prometheus',
        window: { start: start.toISOString(), end: end.toISOString() },
        queries: recordedQueries(queries),
        stable: variantCounts(samples, req.model, req.stableVersion),
        candidate: variantCounts(samples, req.model, req.candidateVersion),
        ...(req.mode === 'shadow' ? { shadow: shadowCounts(samples, req) } : {}),
      };
    },
  };
}
