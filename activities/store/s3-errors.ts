/**
 * Turns AWS SDK errors into errors that say what to do: missing or rejected credentials and a
 * missing bucket become {@link UserError}s (retrying cannot help), an unreachable endpoint an
 * {@link S3UnreachableError} that names it (retryable: the activity's retry policy takes over).
 *
 * @module
 */
import { UserError } from '../../lib/errors.ts';

/** Where a failing S3 call was going. */
export interface S3ErrorContext {
  /** The store's root URI, e.g. `s3://bucket/prefix`. */
  storeUri: string;
  bucket: string;
  /** The endpoint in words (see `describeEndpoint`). */
  endpoint: string;
}

/** The S3 endpoint could not be reached, even after the SDK's retries. */
export class S3UnreachableError extends Error {
  override readonly name = 'S3UnreachableError';
  constructor(
    readonly endpoint: string,
    readonly code: string,
    readonly attempts: number | undefined,
    options?: ErrorOptions,
  ) {
    super(
      `cannot reach the S3 endpoint ${endpoint} (${code}${attempts ? ` after ${attempts} attempts` : ''}); ` +
        'check MODELSHIP_S3_ENDPOINT / AWS_ENDPOINT_URL_S3 and that the server is up and reachable from this host',
      options,
    );
  }
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE']);
const REJECTED_CREDENTIALS = new Set(['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'InvalidToken', 'ExpiredToken', 'AccessDenied', 'Forbidden']);

interface SdkErrorShape {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number; attempts?: number };
  errors?: unknown[];
  cause?: unknown;
}

/** The Node network error code somewhere in an error (or its `cause` / `AggregateError` members). */
function networkCode(err: SdkErrorShape | undefined, depth = 0): string | undefined {
  if (!err || depth > 5) return undefined;
  if (err.code && NETWORK_CODES.has(err.code)) return err.code;
  if (err.name === 'TimeoutError') return 'timed out';
  for (const inner of err.errors ?? []) {
    const code = networkCode(inner as SdkErrorShape, depth + 1);
    if (code) return code;
  }
  return networkCode(err.cause as SdkErrorShape | undefined, depth + 1);
}

/** The error a missing bucket deserves. */
export function noSuchBucket(ctx: S3ErrorContext, cause?: unknown): UserError {
  const error = new UserError(
    `the bucket "${ctx.bucket}" of the artifact store ${ctx.storeUri} does not exist at ${ctx.endpoint}`,
    `create it (e.g. aws s3 mb s3://${ctx.bucket}), or set MODELSHIP_ARTIFACTS to s3://<an existing bucket>/<prefix>`,
  );
  if (cause !== undefined) error.cause = cause;
  return error;
}

/** The HTTP status of an SDK error, if it got a response. */
export function httpStatus(err: unknown): number | undefined {
  return (err as SdkErrorShape | undefined)?.$metadata?.httpStatusCode;
}

/**
 * Explains an SDK error for the person running the release; errors it does not recognise come
 * back unchanged.
 */
export function explainS3Error(err: unknown, ctx: S3ErrorContext): unknown {
  const e = err as SdkErrorShape | undefined;
  if (!e || typeof e !== 'object') return err;
  const withCause = <T extends Error>(out: T): T => Object.assign(out, { cause: err });
  if (e.name === 'CredentialsProviderError' || /could not load credentials/i.test(e.message ?? '')) {
    return withCause(
      new UserError(
        `no AWS credentials found for the artifact store ${ctx.storeUri}`,
        'set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary keys), ' +
          'or AWS_PROFILE naming a profile in ~/.aws/credentials or ~/.aws/config, or run where an instance or task role is available',
      ),
    );
  }
  if (/region is missing/i.test(e.message ?? '')) {
    return withCause(new UserError(`no AWS region for the artifact store ${ctx.storeUri}`, 'set AWS_REGION (e.g. us-east-1) or region in your AWS profile'));
  }
  if (e.name === 'NoSuchBucket') return noSuchBucket(ctx, err);
  if ((e.name && REJECTED_CREDENTIALS.has(e.name)) || httpStatus(err) === 403) {
    return withCause(
      new UserError(
        `${ctx.endpoint} refused the credentials for ${ctx.storeUri} (${e.name ?? 'HTTP 403'}: ${e.message ?? ''})`,
        'check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or AWS_PROFILE, and that this identity may read, write and list the bucket',
      ),
    );
  }
  const code = networkCode(e);
  if (code) return new S3UnreachableError(ctx.endpoint, code, e.$metadata?.attempts, { cause: err });
  return err;
}
