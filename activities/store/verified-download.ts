/**
 * The download discipline every store shares: bytes land in a temporary file next to the
 * destination, their SHA-256 and size are checked against the reference, and only then does the
 * file take its name; on any failure nothing is left behind.
 *
 * @module
 */
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { ArtifactRef } from '../../lib/artifact-ref.ts';
import { IntegrityError, type TransferProgress } from './artifact-store.ts';

/**
 * Runs `write(tmpPath)` (which returns the digest of what it wrote), verifies it against `ref`,
 * then renames the file into `localPath`.
 *
 * @throws {@link IntegrityError} when the bytes do not match the reference
 */
export async function verifiedDownload(
  ref: ArtifactRef,
  localPath: string,
  write: (tmpPath: string) => Promise<{ sha256: string; bytes: number }>,
  onProgress?: TransferProgress,
): Promise<void> {
  await mkdir(dirname(localPath), { recursive: true });
  const tmp = `${localPath}.${randomUUID()}.part`;
  try {
    const actual = await write(tmp);
    if (actual.sha256 !== ref.sha256 || actual.bytes !== ref.bytes) throw new IntegrityError(ref.uri, ref, actual);
    await rename(tmp, localPath);
    onProgress?.(actual.bytes, actual.bytes);
  } finally {
    await rm(tmp, { force: true });
  }
}
