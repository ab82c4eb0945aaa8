/**
 * References to artifacts. Artifacts never travel through Temporal: payloads carry
 * `{ uri, sha256, bytes }` and the receiving worker fetches and verifies the bytes.
 *
 * @module
 */
import { z } from 'zod';

/** A stored artifact: where it is, and what its bytes must hash to. */
export const ArtifactRefSchema = z.object({
  uri: z.string().min(1),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  bytes: z.int().nonnegative(),
});
/** A stored artifact: where it is, and what its bytes must hash to. */
export type ArtifactRef = z.infer<typeof ArtifactRefSchema>;
