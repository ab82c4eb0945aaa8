/**
 * The S3 artifact store (`s3://bucket/prefix`), on the modular AWS SDK v3; works with AWS S3 and
 * S3-compatible servers (MinIO, versitygw, Ceph…) through a custom endpoint.
 *
 * - Write-once: a HEAD first (a retried activity finds its upload there and skips the transfer),
 *   then a conditional write (`If-None-Match: *` on PutObject / CompleteMultipartUpload) so two
 *   writers racing on a key leave one object; the loser compares checksums like a retry does.
 * - Integrity: the full-file SHA-256 travels as `x-amz-meta-sha256`; single-part puts also send it
 *   as `x-amz-checksum-sha256` (the server refuses bytes that do not match), multipart uploads send
 *   a SHA-256 per part. Every download is hashed while it streams and checked against the reference
 *   before the file appears.
 * - Streaming both ways: at most `partSize × queueSize` bytes are in memory.
 *
 * @module
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  PutObjectCommand,
  paginateListObjectsV2,
  type S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { ArtifactRef } from '../../lib/artifact-ref.ts';
import { ArtifactConflictError, IntegrityError, type ArtifactStore, type StoredObject, type TransferProgress } from './artifact-store.ts';
import { DigestStream } from './digest-stream.ts';
import { digestBytes, digestFile } from './hash.ts';
import { createS3Client, describeEndpoint, readS3Settings, type S3Settings } from './s3-config.ts';
import { explainS3Error, httpStatus, noSuchBucket, type S3ErrorContext } from './s3-errors.ts';
import { formatS3Uri, objectKeyFor, parseS3Uri, type S3Location } from './s3-location.ts';
import { verifiedDownload } from './verified-download.ts';

/** Multipart part size (bytes); files up to this size go in one PutObject. */
export const DEFAULT_PART_SIZE = 8 * 1024 * 1024;
/** Parts uploaded at once. */
export const DEFAULT_QUEUE_SIZE = 2;
/** The user-metadata name holding the full-file hex SHA-256 (`x-amz-meta-sha256`). */
export const SHA256_METADATA_KEY = 'sha256';
/** Least bytes between two download progress reports. */
const PROGRESS_STEP = 1024 * 1024;

/** Options of {@link S3ArtifactStore}; everything defaults from the environment. */
export interface S3StoreOptions {
  /** Settings that override those read from the environment ({@link readS3Settings}). */
  settings?: Partial<S3Settings>;
  /** SDK client options that override the derived ones (credentials, region, endpoint…). */
  clientConfig?: S3ClientConfig;
  /** Multipart part size in bytes (at least 5 MiB). */
  partSize?: number;
  /** Parts in flight at once. */
  queueSize?: number;
}

type Digest = { sha256: string; bytes: number };

/** An {@link ArtifactStore} in an S3 bucket, under a key prefix. */
export class S3ArtifactStore implements ArtifactStore {
  readonly rootUri: string;
  readonly bucket: string;
  /** Key prefix without leading or trailing `/` (may be empty). */
  readonly prefix: string;
  /** The SDK client (exposed for tools and tests; {@link S3ArtifactStore.close} destroys it). */
  readonly client: S3Client;
  private readonly settings: S3Settings;
  private readonly partSize: number;
  private readonly queueSize: number;
  private readonly errorContext: S3ErrorContext;
  private bucketCheck: Promise<void> | undefined;

  /** @param location - `s3://bucket/prefix`, or its parsed form */
  constructor(location: string | S3Location, options: S3StoreOptions = {}) {
    const { bucket, key } = typeof location === 'string' ? parseS3Uri(location) : location;
    this.bucket = bucket;
    this.prefix = key;
    this.rootUri = formatS3Uri({ bucket, key });
    this.settings = { ...readS3Settings(), ...options.settings };
    this.client = createS3Client(this.settings, options.clientConfig);
    this.partSize = Math.max(options.partSize ?? DEFAULT_PART_SIZE, 5 * 1024 * 1024);
    this.queueSize = Math.max(options.queueSize ?? DEFAULT_QUEUE_SIZE, 1);
    this.errorContext = {
      storeUri: this.rootUri,
      bucket,
      endpoint: typeof options.clientConfig?.endpoint === 'string' ? options.clientConfig.endpoint : describeEndpoint(this.settings),
    };
  }

  uriFor(key: string): string {
    return formatS3Uri({ bucket: this.bucket, key: this.objectKey(key) });
  }

  async putFile(key: string, localPath: string, onProgress?: TransferProgress): Promise<ArtifactRef> {
    const objectKey = this.objectKey(key);
    const { size } = await stat(localPath);
    if (size <= this.partSize) {
      // One part at most: read it whole, so the SDK can retry the request and the server can
      // check the full-file checksum.
      const body = await readFile(localPath);
      const ref = await this.putBytes(key, body);
      onProgress?.(ref.bytes, ref.bytes);
      return ref;
    }
    const digest = await digestFile(localPath);
    return this.writeOnce(objectKey, digest, () => this.uploadMultipart(objectKey, localPath, digest, onProgress));
  }

  async putBytes(key: string, data: Uint8Array | string): Promise<ArtifactRef> {
    const objectKey = this.objectKey(key);
    const body = typeof data === 'string' ? Buffer.from(data) : data;
    const digest = digestBytes(body);
    return this.writeOnce(objectKey, digest, async () => {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: objectKey,
          Body: body,
          ContentLength: body.length,
          ContentType: 'application/octet-stream',
          Metadata: { [SHA256_METADATA_KEY]: digest.sha256 },
          ChecksumSHA256: Buffer.from(digest.sha256, 'hex').toString('base64'),
          ...(this.settings.conditionalWrites && { IfNoneMatch: '*' }),
        }),
      );
    });
  }

  async getFile(ref: ArtifactRef, localPath: string, onProgress?: TransferProgress): Promise<void> {
    const source = parseS3Uri(ref.uri);
    await verifiedDownload(ref, localPath, (tmp) => this.download(source, ref, createWriteStream(tmp), (done) => onProgress?.(done, ref.bytes)), onProgress);
  }

  async stat(key: string): Promise<StoredObject | undefined> {
    const found = await this.head(this.objectKey(key));
    return found && { key, ...found };
  }

  async list(prefix: string): Promise<string[]> {
    const trimmed = prefix.replace(/^\/+|\/+$/g, '');
    const root = this.prefix ? `${this.prefix}/` : '';
    const listPrefix = trimmed ? `${this.objectKey(trimmed)}/` : root;
    const keys: string[] = [];
    try {
      for await (const page of paginateListObjectsV2({ client: this.client, pageSize: 1000 }, { Bucket: this.bucket, Prefix: listPrefix })) {
        for (const object of page.Contents ?? []) if (object.Key?.startsWith(root)) keys.push(object.Key.slice(root.length));
      }
    } catch (err) {
      throw this.explain(err);
    }
    return keys.sort();
  }

  /** Releases the client's sockets. */
  close(): void {
    this.client.destroy();
  }

  private objectKey(key: string): string {
    return objectKeyFor(this.prefix, key);
  }

  private explain(err: unknown): unknown {
    return explainS3Error(err, this.errorContext);
  }

  /**
   * Writes a key once: skips the write when the key already holds the same bytes, refuses
   * different ones, and settles a lost race (412) the same way.
   */
  private async writeOnce(objectKey: string, digest: Digest, write: () => Promise<void>): Promise<ArtifactRef> {
    const ref: ArtifactRef = { uri: formatS3Uri({ bucket: this.bucket, key: objectKey }), ...digest };
    const existing = await this.head(objectKey);
    if (existing) return this.sameOrConflict(ref, objectKey, existing);
    try {
      await write();
      return ref;
    } catch (err) {
      const status = httpStatus(err);
      if (status !== 412 && status !== 409) throw this.explain(err);
      // Someone else wrote the key between our HEAD and our write.
      const now = await this.head(objectKey);
      if (!now) throw this.explain(err);
      return this.sameOrConflict(ref, objectKey, now);
    }
  }

  private async sameOrConflict(ref: ArtifactRef, objectKey: string, existing: { bytes: number; sha256?: string }): Promise<ArtifactRef> {
    let sha256 = existing.sha256;
    // Written by another tool without our metadata: hash the stored bytes to compare.
    if (sha256 === undefined && existing.bytes === ref.bytes) sha256 = (await this.download({ bucket: this.bucket, key: objectKey })).sha256;
    if (sha256 === ref.sha256 && existing.bytes === ref.bytes) return ref;
    throw new ArtifactConflictError(ref.uri, sha256, ref.sha256);
  }

  private async uploadMultipart(objectKey: string, localPath: string, digest: Digest, onProgress?: TransferProgress): Promise<void> {
    const upload = new Upload({
      client: this.client,
      partSize: this.partSize,
      queueSize: this.queueSize,
      leavePartsOnError: false,
      params: {
        Bucket: this.bucket,
        Key: objectKey,
        Body: createReadStream(localPath, { highWaterMark: 1024 * 1024 }),
        ContentLength: digest.bytes,
        ContentType: 'application/octet-stream',
        Metadata: { [SHA256_METADATA_KEY]: digest.sha256 },
        ChecksumAlgorithm: 'SHA256',
        // Honoured on CompleteMultipartUpload; the parts before it are invisible until then.
        ...(this.settings.conditionalWrites && { IfNoneMatch: '*' }),
      },
    });
    upload.on('httpUploadProgress', (p) => onProgress?.(p.loaded ?? 0, p.total ?? digest.bytes));
    await upload.done();
  }

  /** What a key holds (size, recorded SHA-256), or `undefined`; a missing bucket is an error. */
  private async head(objectKey: string): Promise<Omit<StoredObject, 'key'> | undefined> {
    try {
      const res = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: objectKey }));
      return { bytes: res.ContentLength ?? 0, ...storedSha256(res.Metadata) };
    } catch (err) {
      if (httpStatus(err) !== 404 || (err as Error).name === 'NoSuchBucket') throw this.explain(err);
      await this.ensureBucket(); // a HEAD on a missing bucket is a bare 404 too
      return undefined;
    }
  }

  private ensureBucket(): Promise<void> {
    this.bucketCheck ??= this.client.send(new HeadBucketCommand({ Bucket: this.bucket })).then(
      () => undefined,
      (err: unknown) => {
        this.bucketCheck = undefined;
        throw httpStatus(err) === 404 ? noSuchBucket(this.errorContext, err) : this.explain(err);
      },
    );
    return this.bucketCheck;
  }

  /**
   * Streams an object through a running SHA-256 into `sink` (or nowhere). With `expected`, fails
   * early with {@link IntegrityError} when the recorded SHA-256 metadata already disagrees, and
   * turns the SDK's own response checksum check failing into one.
   */
  private async download(source: S3Location, expected?: ArtifactRef, sink?: Writable, onBytes?: (bytes: number) => void): Promise<Digest> {
    const uri = formatS3Uri(source);
    let res;
    try {
      res = await this.client.send(new GetObjectCommand({ Bucket: source.bucket, Key: source.key, ChecksumMode: 'ENABLED' }));
    } catch (err) {
      if ((err as Error).name === 'NoSuchKey') throw new Error(`${uri} is not in the artifact store (NoSuchKey at ${this.errorContext.endpoint})`, { cause: err });
      throw this.explain(err);
    }
    const body = res.Body as Readable | undefined;
    const recorded = storedSha256(res.Metadata).sha256;
    if (expected && recorded && recorded !== expected.sha256) {
      // The object was replaced: no need to stream gigabytes to learn that.
      body?.destroy();
      throw new IntegrityError(uri, expected, { sha256: recorded, bytes: res.ContentLength ?? -1 });
    }
    let reported = 0;
    const digest = new DigestStream((bytes) => {
      if (bytes - reported >= PROGRESS_STEP) {
        reported = bytes;
        onBytes?.(bytes);
      }
    });
    try {
      if (!body) throw new Error(`${uri}: the S3 response had no body`);
      await pipeline(body, digest, sink ?? discard());
    } catch (err) {
      if (expected && /checksum mismatch/i.test((err as Error).message ?? '')) {
        throw Object.assign(new IntegrityError(uri, expected, digest.digest()), { cause: err });
      }
      throw this.explain(err);
    }
    return digest.digest();
  }
}

/** The recorded full-file SHA-256 from user metadata, when well-formed. */
function storedSha256(metadata: Record<string, string> | undefined): { sha256?: string } {
  const value = metadata?.[SHA256_METADATA_KEY]?.toLowerCase();
  return value && /^[0-9a-f]{64}$/.test(value) ? { sha256: value } : {};
}

/** A sink that drops what it is given. */
function discard(): Writable {
  return new Writable({ write: (_chunk, _encoding, callback) => callback() });
}
