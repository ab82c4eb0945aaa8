/**
 * The direct-scrape metrics source, for when no Prometheus is configured: reads the serving
 * runtime's `GET /metrics` at the window's start and end and diffs the counters (a value that went
 * down is a restart: the later value is the increase, as Prometheus does).
 *
 * The start is the oldest snapshot this source took within the window (one per earlier call,
 * kept in memory), so repeated analyses during a bake cover the whole window without waiting. When
 * there is none, it scrapes now and waits the window out (at most `maxWaitSeconds`, heartbeating),
 * then scrapes again. The recorded window is the real span between the two scrapes.
 *
 * @module
 */
import type { WindowObservation } from '../../lib/analysis/index.ts';
import { counterIncrease, parseExposition, type Sample } from './exposition.ts';
import { shadowCounts, variantCounts } from './series.ts';
import { MetricsSourceError, waitWithHeartbeat, type MetricsSource, type ObserveOptions, type ObserveRequest } from './source.ts';

/** Options of {@link createScrapeSource}. */
export interface ScrapeSourceOptions {
  /** The runtime's metrics URL, e.g. `http://127.0.0.1:8100/metrics`. */
  metricsUrl: string;
  /** Longest wait for a window without an earlier snapshot, seconds. Default 120. */
  maxWaitSeconds?: number;
  /** Per-scrape timeout, milliseconds. Default 10 000. */
  timeoutMs?: number;
}

/** One scrape: when, and what. */
export interface Snapshot {
  at: number;
  samples: Sample[];
}

/** Reads and parses `/metrics` once. */
export async function scrapeMetrics(metricsUrl: string, timeoutMs = 10_000): Promise<Snapshot> {
  let text: string;
  try {
    const res = await fetch(metricsUrl, { signal: AbortSignal.timeout(timeoutMs) });
    text = await res.text();
    if (!res.ok) throw new Error(`HTTP ${res.status}: ${text.slice(0, 200)}`);
  } catch (e) {
    throw new MetricsSourceError(`cannot scrape ${metricsUrl}: ${(e as Error).message}`, 'check that the serving runtime runs and MODELSHIP_SERVE_URL points at it');
  }
  const at = Date.now();
  try {
    return { at, samples: parseExposition(text).samples };
  } catch (e) {
    throw new MetricsSourceError(`${metricsUrl} is not a Prometheus exposition: ${(e as Error).message}`, 'is this the serving runtime\'s /metrics URL?');
  }
}

/** A window observation from two snapshots. */
export function observationFromSnapshots(before: Snapshot, after: Snapshot, req: ObserveRequest): WindowObservation {
  const inc = counterIncrease(before.samples, after.samples);
  const scrape = 'scrape';
  return {
    source: 'scrape',
    window: { start: new Date(before.at).toISOString(), end: new Date(after.at).toISOString() },
    queries: Object.fromEntries(['requests', 'errors', 'latency', 'accuracy', 'shadowComparisons', 'shadowAgreement', 'shadowRequests', 'shadowFailed'].map((k) => [k, scrape])),
    stable: variantCounts(inc, req.model, req.stableVersion),
    candidate: variantCounts(inc, req.model, req.candidateVersion),
    ...(req.mode === 'shadow' ? { shadow: shadowCounts(inc, req) } : {}),
  };
}

/** A metrics source scraping the runtime directly. */
export function createScrapeSource(opts: ScrapeSourceOptions): MetricsSource {
  const maxWaitMs = (opts.maxWaitSeconds ?? 120) * 1000;
  const history: Snapshot[] = [];
  const keep = (s: Snapshot) => {
    history.push(s);
    const horizon = s.at - 24 * 3600 * 1000;
    while (history.length > 0 && (history[0]!.at < horizon || history.length > 1000)) history.shift();
  };
  return {
    kind: 'scrape',
    async observe(req: ObserveRequest, o: ObserveOptions = {}): Promise<WindowObservation> {
      const windowMs = req.windowSeconds * 1000;
      // The oldest earlier snapshot inside the window (1 s of slack for the caller's rounding).
      const earliest = Date.now() - windowMs - 1000;
      let before = history.find((s) => s.at >= earliest);
      if (!before) {
        before = await scrapeMetrics(opts.metricsUrl, opts.timeoutMs);
        keep(before);
        await waitWithHeartbeat(Math.min(windowMs, maxWaitMs), o);
      }
      const after = await scrapeMetrics(opts.metricsUrl, opts.timeoutMs);
      keep(after);
      return observationFromSnapshots(before, after, req);
    },
  };
}
