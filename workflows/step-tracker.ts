/**
 * Keeps the per-step status of a release (what the `status` query and `release status` show):
 * each step's start, end, duration, verdict and one line for people. Uses workflow time only.
 *
 * @module
 */
import type { Precision } from '../lib/manifest.ts';
import type { StepState, StepStatus } from '../lib/release.ts';

/** Where a step is, for begin/end. */
export interface StepKey {
  step: string;
  target?: string;
  precision?: Precision;
}

/** How a step ended. */
export interface StepOutcome {
  state: Extract<StepState, 'done' | 'failed'>;
  verdict?: 'pass' | 'fail';
  summary?: string;
}

/** Mutates a list of steps in place (the list is part of the queried status). */
export class StepTracker {
  constructor(private readonly steps: StepStatus[]) {}

  /** Marks a step running (adding it, or restarting it when it is already listed). */
  begin(key: StepKey): void {
    const now = new Date(Date.now()).toISOString();
    const existing = this.find(key);
    const fresh: StepStatus = { ...key, state: 'running', startedAt: now };
    if (existing) Object.assign(existing, { ...fresh, endedAt: undefined, durationMs: undefined, verdict: undefined, summary: undefined });
    else this.steps.push(fresh);
  }

  /** Marks a step done or failed, with its duration. */
  end(key: StepKey, outcome: StepOutcome): void {
    const step = this.find(key) ?? (this.steps.push({ ...key, state: 'running' }), this.steps[this.steps.length - 1]!);
    const ended = Date.now();
    Object.assign(step, outcome, {
      endedAt: new Date(ended).toISOString(),
      durationMs: step.startedAt ? ended - Date.parse(step.startedAt) : undefined,
    });
  }

  /** Runs a step body between begin and end, recording failures with their message. */
  async run<T>(key: StepKey, body: () => Promise<T>, describe: (result: T) => Omit<StepOutcome, 'state'> = () => ({})): Promise<T> {
    this.begin(key);
    try {
      const result = await body();
      this.end(key, { state: 'done', ...describe(result) });
      return result;
    } catch (err) {
      this.end(key, { state: 'failed', summary: failureMessage(err) });
      throw err;
    }
  }

  private find(key: StepKey): StepStatus | undefined {
    return this.steps.find((s) => s.step === key.step && s.target === key.target && s.precision === key.precision);
  }
}

/** The innermost message of a failure chain (activity failures wrap the real cause). */
export function failureMessage(err: unknown): string {
  let e = err as { message?: string; cause?: unknown } | undefined;
  while (e?.cause) e = e.cause as typeof e;
  return e?.message ?? String(err);
}
