/**
 * Streaming SHA-256 of files and buffers.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

/** SHA-256 (hex) and size of a file, read as a stream. */
export async function digestFile(path: string): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(path)) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), bytes };
}

/** SHA-256 (hex) and size of in-memory bytes. */
export function digestBytes(data: Uint8Array | string): { sha256: string; bytes: number } {
  const buf = typeof data === 'string' ? Buffer.from(data) : data;
  return { sha256: createHash('sha256').update(buf).digest('hex'), bytes: buf.length };
}
