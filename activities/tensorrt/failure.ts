/**
 * A failed trtexec run as the Temporal failure the retry policy acts on: a wrong model or shapes
 * are not retryable and say what to do; out of memory retries with half the workspace; a builder
 * that cannot be created or a crash retries (another worker may do better).
 *
 * @module
 */
import { ApplicationFailure } from '@temporalio/common';
import { ErrorType } from '../../lib/errors.ts';
import { classifyTrtexecFailure, parseTrtexecLog, TrtexecFailureClass } from '../../lib/trtexec/index.ts';
import type { TrtexecOutcome } from './trtexec-process.ts';

/** The smallest workspace the halving goes down to. */
export const MIN_WORKSPACE_MIB = 256;

/**
 * The workspace of this attempt: the configured one (or the GPU's memory) halved once per earlier
 * attempt; `undefined` on the first attempt without a configured one (TensorRT's default).
 */
export function workspaceForAttempt(configuredMiB: number | undefined, attempt: number, deviceMemoryMiB: number): number | undefined {
  if (attempt <= 1) return configuredMiB;
  const base = configuredMiB ?? Math.floor(deviceMemoryMiB);
  return Math.max(MIN_WORKSPACE_MIB, Math.floor(base / 2 ** (attempt - 1)));
}

/** What the failure message needs besides the run. */
export interface FailureContext {
  what: string;
  logUri?: string;
  /** The workspace the next attempt will use, for the OOM message. */
  nextWorkspaceMiB?: number;
  workerId: string;
}

/** Turns a trtexec run that did not pass into an ApplicationFailure (or `undefined` when it passed). */
export function trtexecFailure(outcome: TrtexecOutcome, ctx: FailureContext): ApplicationFailure | undefined {
  if (outcome.spawnError) {
    return ApplicationFailure.create({
      type: ErrorType.Infrastructure,
      message: `${ctx.what}: trtexec could not be started on ${ctx.workerId}: ${outcome.spawnError} (check --trtexec <path> on the GPU worker)`,
    });
  }
  if (outcome.canceled) {
    return ApplicationFailure.create({ type: ErrorType.Infrastructure, message: `${ctx.what}: cancelled; trtexec (pid ${outcome.pid}) was ended` });
  }
  const log = parseTrtexecLog(outcome.text);
  if (log.status === 'passed' && outcome.exitCode === 0) return undefined;
  // A non-zero exit after PASSED, or a zero exit without it, still counts as a crash.
  const parsed = log.status === 'passed' ? { ...log, status: 'crashed' as const } : log;
  const verdict = classifyTrtexecFailure(parsed, outcome.text);
  if (!verdict) return undefined;
  const where = ctx.logUri ? ` Build log: ${ctx.logUri}` : '';
  const evidence = verdict.evidence ? ` (${verdict.evidence.trim().slice(0, 300)})` : '';
  const details = [{ class: verdict.class, advice: verdict.advice, evidence: verdict.evidence, exitCode: outcome.exitCode ?? null, signal: outcome.signal ?? null, log: ctx.logUri ?? null }];
  if (verdict.class === TrtexecFailureClass.OutOfMemory) {
    const next = ctx.nextWorkspaceMiB ? ` The next attempt uses --memPoolSize=workspace:${ctx.nextWorkspaceMiB}M.` : '';
    return ApplicationFailure.create({ type: ErrorType.Infrastructure, message: `${ctx.what}: out of memory${evidence}. ${verdict.advice}${next}${where}`, details });
  }
  if (verdict.retryable) {
    const kind = verdict.class === TrtexecFailureClass.Crash ? `trtexec crashed (exit ${outcome.exitCode ?? outcome.signal}, no PASSED/FAILED line)` : verdict.class;
    return ApplicationFailure.create({ type: ErrorType.Infrastructure, message: `${ctx.what}: ${kind} on ${ctx.workerId}${evidence}. ${verdict.advice}${where}`, details });
  }
  return ApplicationFailure.create({
    type: verdict.errorType === ErrorType.Infrastructure ? ErrorType.BadInput : verdict.errorType,
    nonRetryable: true,
    message: `${ctx.what}: ${verdict.class}${evidence}. ${verdict.advice}${where}`,
    details,
  });
}
