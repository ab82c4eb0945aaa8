/**
 * What a metrics source does for the analysis: observe one model's stable and candidate (or
 * shadow) series over a window and return a {@link WindowObservation}.
 *
 * @module
 */
import type { AnalysisMode, MetricsSourceKind, WindowObservation } from '../../lib/analysis/index.ts';
import type { SeriesSelection } from './series.ts';

/** One observation request. */
export interface ObserveRequest extends SeriesSelection {
  mode: AnalysisMode;
  /** Length of the window, seconds. */
  windowSeconds: number;
}

/** Hooks for a long observation (the scrape source waits out its window). */
export interface ObserveOptions {
  /** Called every few seconds while waiting (activity heartbeats). */
  heartbeat?: (details: unknown) => void;
  /** Aborts the wait (activity cancellation). */
  signal?: AbortSignal;
}

/** A source of window observations: Prometheus, or scrapes of the runtime's `/metrics`. */
export interface MetricsSource {
  readonly kind: MetricsSourceKind;
  /** Observes the window; rejects with {@link MetricsSourceError} when the source cannot answer. */
  observe(req: ObserveRequest, opts?: ObserveOptions): Promise<WindowObservation>;
}

/** The source could not be read (unreachable, bad answer); carries a hint of what to do. */
export class MetricsSourceError extends Error {
  override readonly name = 'MetricsSourceError';
  constructor(
    message: string,
    readonly hint: string,
  ) {
    super(`${message}\n  hint: ${hint}`);
  }
}

/** Waits `ms`, calling `heartbeat` every `everyMs`; rejects when `signal` aborts. */
export async function waitWithHeartbeat(ms: number, opts: ObserveOptions = {}, everyMs = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    opts.signal?.throwIfAborted();
    const step = Math.min(everyMs, end - Date.now());
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => {
        opts.signal?.removeEventListener('abort', onAbort);
        resolve();
      }, step);
      const onAbort = () => {
        clearTimeout(t);
        reject(opts.signal?.reason ?? new Error('aborted'));
      };
      opts.signal?.addEventListener('abort', onAbort, { once: true });
    });
    opts.heartbeat?.({ waitingMs: Math.max(0, end - Date.now()) });
  }
}
