/**
 * The payloads people send to a rollout (approve, reject, rollback — as Updates or Signals),
 * checked before anything reads them. Any value can arrive (`null`, `{}`, wrong types, huge
 * strings): {@link parseApprovalArgs} and {@link parseRollbackArgs} return the checked arguments
 * or throw an `Error` whose message names the field, never anything else.
 *
 * @module
 */
import { z } from 'zod';
import { INVISIBLE_CHARACTERS, MAX_PERSON_NAME, PersonNameSchema } from './person-name.ts';
import type { TargetStepEvent } from './release.ts';
import type { ApprovalArgs, RollbackArgs } from './rollout.ts';

/** Longest reason kept, in characters. */
export const MAX_REASON = 1000;

const reason = z.string().max(MAX_REASON, `expected at most ${MAX_REASON} characters`);

/** approve / reject: `{ by, step?, reason? }`. */
export const ApprovalArgsSchema = z.object({ by: PersonNameSchema, step: z.int().min(0).max(10_000).optional(), reason: reason.optional() }).strict();

/** rollback: `{ by, reason }`. */
export const RollbackArgsSchema = z.object({ by: PersonNameSchema, reason: reason.min(1, 'expected a reason') }).strict();

function parse<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issues = r.error.issues.slice(0, 3).map((i) => `${i.path.length ? i.path.join('.') : 'arguments'}: ${i.message}`);
  throw new Error(`${what}: ${issues.join('; ')}`);
}

/** Checks approve/reject arguments; throws an `Error` naming the field. */
export function parseApprovalArgs(value: unknown): ApprovalArgs {
  return parse(ApprovalArgsSchema, value, 'approval arguments');
}

/** Checks rollback arguments; throws an `Error` naming the field. */
export function parseRollbackArgs(value: unknown): RollbackArgs {
  return parse(RollbackArgsSchema, value, 'rollback arguments');
}

/** A printable, bounded `by` for the record of a refused payload (never throws). */
export function claimedBy(value: unknown): string {
  const by = value && typeof value === 'object' && 'by' in value ? (value as { by: unknown }).by : undefined;
  if (typeof by !== 'string') return '(unknown)';
  const clean = by.replace(new RegExp(INVISIBLE_CHARACTERS.source, 'gu'), '?').slice(0, MAX_PERSON_NAME);
  return clean.trim() ? clean : '(unknown)';
}

const shortText = z.string().min(1).max(128);

/** The `targetStep` signal a target's child workflow sends its release (anyone can send it too). */
export const TargetStepEventSchema = z
  .object({
    phase: z.enum(['begin', 'end']),
    step: shortText,
    target: shortText,
    precision: z.enum(['fp32', 'fp16', 'bf16', 'int8']).optional(),
    state: z.enum(['done', 'failed']).optional(),
    verdict: z.enum(['pass', 'fail']).optional(),
    summary: z.string().max(2000).optional(),
  })
  .strict();

/** Checks a `targetStep` signal's payload; throws an `Error` naming the field. */
export function parseTargetStepEvent(value: unknown): TargetStepEvent {
  return parse(TargetStepEventSchema, value, 'targetStep signal');
}
