/**
 * A small client of the Prometheus HTTP API (`/api/v1/query`, `/api/v1/query_range`, `/-/ready`)
 * over `fetch`, and the PromQL string helpers the sources build queries with.
 *
 * @module
 */
import { parseSampleValue, type Sample } from './exposition.ts';
import { MetricsSourceError } from './source.ts';

/** Options of {@link PrometheusClient}. */
export interface PrometheusClientOptions {
  /** Per-request timeout, milliseconds. Default 10 000. */
  timeoutMs?: number;
}

/** One series of a range query: its labels and `[unix seconds, value]` points. */
export interface RangeSeries {
  labels: Record<string, string>;
  points: [number, number][];
}

interface ApiReply {
  status: 'success' | 'error';
  data?: { resultType: string; result: unknown };
  errorType?: string;
  error?: string;
}

/** Reads a Prometheus server's HTTP API. */
export class PrometheusClient {
  readonly baseUrl: string;
  private readonly timeoutMs: number;

  /** @param baseUrl e.g. `http://127.0.0.1:9090` */
  constructor(baseUrl: string, opts: PrometheusClientOptions = {}) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.timeoutMs = opts.timeoutMs ?? 10_000;
  }

  private async call(path: string, params: Record<string, string>): Promise<ApiReply['data']> {
    const url = `${this.baseUrl}${path}`;
    let res: Response;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(params).toString(),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (e) {
      throw new MetricsSourceError(`cannot reach Prometheus at ${this.baseUrl}: ${(e as Error).message}`, 'check that Prometheus runs and MODELSHIP_PROMETHEUS_URL points at it, or unset it to scrape the runtime directly');
    }
    const text = await res.text();
    let body: ApiReply;
    try {
      body = JSON.parse(text) as ApiReply;
    } catch {
      throw new MetricsSourceError(`Prometheus ${url} answered ${res.status} with no JSON: ${text.slice(0, 200)}`, 'is this URL a Prometheus server?');
    }
    if (body.status !== 'success') {
      throw new MetricsSourceError(`Prometheus rejected ${params.query ?? path}: ${body.errorType ?? res.status}: ${body.error ?? text.slice(0, 200)}`, 'the query is built by modelship; report it with this message');
    }
    return body.data;
  }

  /** An instant query at `time` (default now); returns the vector's samples (scalars as one unlabelled sample). */
  async query(promql: string, time?: Date): Promise<Sample[]> {
    const data = await this.call('/api/v1/query', { query: promql, ...(time ? { time: (time.getTime() / 1000).toFixed(3) } : {}) });
    if (data?.resultType === 'scalar') {
      const [, v] = data.result as [number, string];
      return [{ name: '', labels: {}, value: parseSampleValue(v) }];
    }
    if (data?.resultType !== 'vector') throw new MetricsSourceError(`expected a vector from ${promql}, got ${data?.resultType}`, 'use an instant-vector query');
    return (data.result as { metric: Record<string, string>; value: [number, string] }[]).map((r) => {
      const { __name__: name = '', ...labels } = r.metric;
      return { name, labels, value: parseSampleValue(r.value[1]), timestamp: Math.round(r.value[0] * 1000) };
    });
  }

  /** A range query from `start` to `end` every `stepSeconds`. */
  async queryRange(promql: string, start: Date, end: Date, stepSeconds: number): Promise<RangeSeries[]> {
    const data = await this.call('/api/v1/query_range', {
      query: promql,
      start: (start.getTime() / 1000).toFixed(3),
      end: (end.getTime() / 1000).toFixed(3),
      step: String(stepSeconds),
    });
    if (data?.resultType !== 'matrix') throw new MetricsSourceError(`expected a matrix from ${promql}, got ${data?.resultType}`, 'use a range-vector-free expression');
    return (data.result as { metric: Record<string, string>; values: [number, string][] }[]).map((r) => ({
      labels: r.metric,
      points: r.values.map(([t, v]) => [t, parseSampleValue(v)] as [number, number]),
    }));
  }

  /** Whether the server answers `/-/ready` with 200. */
  async ready(): Promise<boolean> {
    try {
      const res = await fetch(`${this.baseUrl}/-/ready`, { signal: AbortSignal.timeout(this.timeoutMs) });
      await res.arrayBuffer();
      return res.ok;
    } catch {
      return false;
    }
  }
}

/** A PromQL string literal: `"..."` with `\` and `"` escaped. */
export function promString(s: string): string {
  return JSON.stringify(s);
}

/** A PromQL regex matching exactly one of `values` (metacharacters escaped), as a string literal. */
export function promAlternatives(values: readonly string[]): string {
  return promString([...new Set(values)].map((v) => v.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'));
}
