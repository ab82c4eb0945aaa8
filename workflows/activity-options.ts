/**
 * Timeouts and retries of the release's activities, in one place.
 *
 * @module
 */
import type { ActivityOptions, RetryPolicy } from '@temporalio/workflow';
import { NON_RETRYABLE_ERROR_TYPES } from '../lib/errors.ts';

/** Infrastructure faults retry with backoff; bad input, gates and conflicts do not. */
export const RETRY: RetryPolicy = {
  initialInterval: '2s',
  backoffCoefficient: 2,
  maximumInterval: '1m',
  maximumAttempts: 5,
  nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES],
};

/**
 * Long steps heartbeat every few seconds while their process lives, so a dead worker is noticed
 * within the heartbeat timeout and the step is retried elsewhere (or on the restarted worker).
 */
export const LONG_STEP: ActivityOptions = {
  startToCloseTimeout: '2h',
  heartbeatTimeout: '20s',
  retry: RETRY,
};
