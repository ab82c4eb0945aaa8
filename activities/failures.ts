/**
 * Turns the errors activities meet into Temporal failures of the right type, and toolkit progress
 * into heartbeats.
 *
 * @module
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { ErrorType, ManifestError, UserError } from '../lib/errors.ts';
import type { ProgressEvent } from '../lib/toolkit-contract.ts';
import type { ToolkitCallOptions } from './toolkit.ts';
import { ArtifactConflictError, IntegrityError } from './store/artifact-store.ts';

/** Maps known error classes to non-retryable failures; everything else is rethrown (retryable). */
export function toFailure(err: unknown): unknown {
  if (err instanceof ApplicationFailure) return err;
  if (err instanceof ManifestError) return ApplicationFailure.nonRetryable(err.message, ErrorType.BadInput, { issues: err.issues });
  if (err instanceof UserError) return ApplicationFailure.nonRetryable(err.message, ErrorType.BadInput);
  if (err instanceof ArtifactConflictError) return ApplicationFailure.nonRetryable(err.message, ErrorType.ArtifactConflict);
  if (err instanceof IntegrityError) return ApplicationFailure.nonRetryable(err.message, ErrorType.IntegrityError);
  return err;
}

/** Runs an activity body, converting its errors with {@link toFailure}. */
export async function withFailures<T>(body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (err) {
    throw toFailure(err);
  }
}

/** {@link toolkitCallOptions}: toolkit call options, and `say` for the activity's own progress. */
export interface StepHeartbeats extends ToolkitCallOptions {
  onProgress: (event: ProgressEvent) => void;
  keepAlive: () => void;
  signal: AbortSignal;
  /** Reports progress of the activity itself (a trtexec run, a cache hit). */
  say(message: string, done?: number, total?: number): void;
}

/**
 * Heartbeats of the current activity's step, usable as toolkit call options: progress lines become
 * heartbeats (the UI shows the last one), the process is reported alive while it runs, and
 * cancellation ends it.
 */
export function toolkitCallOptions(step: string): StepHeartbeats {
  const ctx = Context.current();
  let last: ProgressEvent = { event: 'progress', step, message: 'started' };
  const beat = (event: ProgressEvent) => {
    last = event;
    ctx.heartbeat(last);
  };
  return {
    onProgress: (event) => beat({ ...event, step: event.step || step }),
    say: (message, done, total) => beat({ event: 'progress', step, message, ...(done !== undefined ? { done } : {}), ...(total !== undefined ? { total } : {}) }),
    keepAlive: () => ctx.heartbeat(last),
    signal: ctx.cancellationSignal,
  };
}
