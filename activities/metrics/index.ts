/**
 * Metrics for the canary analysis: the Prometheus and direct-scrape sources, the `analyzeCanary`
 * activity factory (the local Prometheus runner is workers/prometheus.ts).
 *
 * @module
 */
import { createPrometheusSource } from './prometheus-source.ts';
import { createScrapeSource } from './scrape-source.ts';
import type { MetricsSource } from './source.ts';

export * from './analysis-activities.ts';
export * from './exposition.ts';
export * from './prometheus-client.ts';
export * from './prometheus-source.ts';
export * from './scrape-source.ts';
export * from './series.ts';
export * from './source.ts';

/** Where the metrics are: a Prometheus server, else the serving runtime itself. */
export interface MetricsConfig {
  /** Prometheus base URL (e.g. `$MODELSHIP_PROMETHEUS_URL`); when set, it is the source. */
  prometheusUrl?: string;
  /** The serving runtime's base URL (e.g. `http://127.0.0.1:8100`), scraped when no Prometheus is set. */
  serveUrl?: string;
}

/**
 * The metrics source for a config: Prometheus when its URL is set, else scrapes of the runtime.
 *
 * @throws Error when neither URL is set
 */
export function metricsSourceFromConfig(config: MetricsConfig): MetricsSource {
  if (config.prometheusUrl) return createPrometheusSource({ url: config.prometheusUrl });
  if (config.serveUrl) return createScrapeSource({ metricsUrl: `${config.serveUrl.replace(/\/+$/, '')}/metrics` });
  throw new Error('no metrics source: set a Prometheus URL (MODELSHIP_PROMETHEUS_URL) or the serving runtime URL');
}
