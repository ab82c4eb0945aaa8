/**
 * A pass-through stream that hashes (SHA-256) and counts what flows through it, so a download can
 * be verified while it is written, without reading the file twice or holding it in memory.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

/** Pass-through SHA-256 and byte counter; read {@link DigestStream.digest} once the stream ended. */
export class DigestStream extends Transform {
  private readonly hash = createHash('sha256');
  private count = 0;
  private result: { sha256: string; bytes: number } | undefined;

  /** @param onBytes - called with the running byte count after each chunk */
  constructor(private readonly onBytes?: (bytes: number) => void) {
    super();
  }

  /** Bytes seen so far. */
  get bytes(): number {
    return this.count;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.hash.update(chunk);
    this.count += chunk.length;
    this.onBytes?.(this.count);
    callback(null, chunk);
  }

  /** SHA-256 (hex) and size of everything that went through (finalises the hash on first call). */
  digest(): { sha256: string; bytes: number } {
    this.result ??= { sha256: this.hash.digest('hex'), bytes: this.count };
    return this.result;
  }
}
