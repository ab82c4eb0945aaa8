/**
 * The artifact store interface: write-once keys holding files, addressed by URI, verified by
 * SHA-256 on every read. Backends: a local folder (`file://`, the default) and S3.
 *
 * @module
 */
import type { ArtifactRef } from '../../lib/artifact-ref.ts';

/** Progress callback for long transfers: bytes moved so far of the total. */
export type TransferProgress = (bytesDone: number, bytesTotal: number) => void;

/** What a store knows of a key without reading its bytes. */
export interface StoredObject {
  key: string;
  bytes: number;
  /** Hex SHA-256 when the backend recorded it. */
  sha256?: string;
}

/** A write-once artifact store. Keys are `/`-separated relative paths. */
export interface ArtifactStore {
  /** The URI of the store's root, e.g. `file:///var/modelship/artifacts` or `s3://bucket/prefix`. */
  readonly rootUri: string;
  /** The URI a key is stored under. */
  uriFor(key: string): string;
  /**
   * Stores a local file under a key, once. Storing identical content again succeeds and returns
   * the same reference; different content fails with {@link ArtifactConflictError}.
   */
  putFile(key: string, localPath: string, onProgress?: TransferProgress): Promise<ArtifactRef>;
  /** Stores bytes under a key, once (same rules as {@link ArtifactStore.putFile}). */
  putBytes(key: string, data: Uint8Array | string): Promise<ArtifactRef>;
  /**
   * Copies a stored artifact to a local path, verifying its SHA-256 (and size) before the file
   * appears there; a mismatch fails with {@link IntegrityError} and leaves nothing behind.
   */
  getFile(ref: ArtifactRef, localPath: string, onProgress?: TransferProgress): Promise<void>;
  /** What is stored under a key, or `undefined`. */
  stat(key: string): Promise<StoredObject | undefined>;
  /** Keys under a prefix. */
  list(prefix: string): Promise<string[]>;
}

/** A write-once key already holds different content. */
export class ArtifactConflictError extends Error {
  override readonly name = 'ArtifactConflictError';
  constructor(
    readonly uri: string,
    readonly existingSha256: string | undefined,
    readonly newSha256: string,
  ) {
    super(
      `${uri} already holds different content (stored sha256 ${existingSha256 ?? 'unknown'}, new ${newSha256}); ` +
        'release packages are never overwritten: tag a new version instead',
    );
  }
}

/** Stored bytes do not match their reference. */
export class IntegrityError extends Error {
  override readonly name = 'IntegrityError';
  constructor(
    readonly uri: string,
    readonly expected: { sha256: string; bytes: number },
    readonly actual: { sha256: string; bytes: number },
  ) {
    super(
      `${uri} is corrupted or truncated: expected ${expected.bytes} bytes with sha256 ${expected.sha256}, ` +
        `got ${actual.bytes} bytes with sha256 ${actual.sha256}; refusing to use it`,
    );
  }
}
