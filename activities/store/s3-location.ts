/**
 * `s3://bucket/key` URIs: parsing, formatting, and the keys a store may use under its prefix.
 *
 * @module
 */
import { z } from 'zod';
import { UserError } from '../../lib/errors.ts';

/** S3 bucket names: 3–63 lowercase letters, digits, dots and hyphens, starting and ending alphanumeric. */
export const S3BucketSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'a bucket name is 3–63 lowercase letters, digits, dots or hyphens');

/** A bucket and a key (or key prefix) in it; neither has a leading or trailing `/`. */
export interface S3Location {
  bucket: string;
  key: string;
}

/**
 * Parses `s3://bucket`, `s3://bucket/prefix` or `s3://bucket/some/key`.
 *
 * @throws {@link UserError} naming the URI when it is not an `s3://` URI with a valid bucket
 */
export function parseS3Uri(uri: string): S3Location {
  const match = /^s3:\/\/([^/]*)(?:\/(.*))?$/.exec(uri);
  const bucket = S3BucketSchema.safeParse(match?.[1]);
  if (!match || !bucket.success) {
    throw new UserError(
      `not an S3 location: ${uri}`,
      'write s3://bucket or s3://bucket/prefix, with a bucket name of 3–63 lowercase letters, digits, dots or hyphens (MODELSHIP_ARTIFACTS)',
    );
  }
  return { bucket: bucket.data, key: (match[2] ?? '').replace(/^\/+|\/+$/g, '') };
}

/** Formats a location as `s3://bucket/key` (`s3://bucket` for an empty key). */
export function formatS3Uri(location: S3Location): string {
  return location.key ? `s3://${location.bucket}/${location.key}` : `s3://${location.bucket}`;
}

/**
 * The object key of a store key under a prefix.
 *
 * @throws Error when the key is empty, absolute, or has empty, `.` or `..` segments (it would
 * name something else on a file store)
 */
export function objectKeyFor(prefix: string, key: string): string {
  const segments = key.split('/');
  if (!key || segments.some((s) => s === '' || s === '.' || s === '..')) {
    throw new Error(`invalid artifact key: ${JSON.stringify(key)} (use relative a/b/c paths without empty, . or .. segments)`);
  }
  return prefix ? `${prefix}/${key}` : key;
}
