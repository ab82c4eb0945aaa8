/**
 * A person's name as modelship records it (approvers in the manifest, `by` in approvals and
 * rollbacks): 1–64 characters, not only spaces, no control, format or bidirectional characters
 * (which can make one name look like another in the UI and the records).
 *
 * @module
 */
import { z } from 'zod';

/** Longest name accepted, in characters. */
export const MAX_PERSON_NAME = 64;

/**
 * Characters a name may not hold: Cc (controls), Cf (format: bidi overrides, zero-width joiners),
 * Zl/Zp (line and paragraph separators).
 */
export const INVISIBLE_CHARACTERS = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;

/** The zod schema of a person's name. */
export const PersonNameSchema = z
  .string()
  .min(1, 'expected a name')
  .max(MAX_PERSON_NAME, `expected at most ${MAX_PERSON_NAME} characters`)
  .refine((s) => s.trim().length > 0, 'expected a name, not only spaces')
  .refine((s) => !INVISIBLE_CHARACTERS.test(s), 'expected no control, format or bidirectional characters');
