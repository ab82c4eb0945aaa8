/**
 * How the S3 store reaches its server: settings read from the environment (see
 * docs/artifact-store.md) and the AWS SDK client built from them. Credentials always come from the
 * SDK's standard provider chain (environment, profiles, SSO, web identity, container and instance
 * roles); region from `AWS_REGION` or the profile, or `us-east-1` for a custom endpoint that needs
 * none.
 *
 * @module
 */
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { z } from 'zod';
import { UserError } from '../../lib/errors.ts';

/** The SDK's retry modes: `standard` (exponential backoff with jitter) or `adaptive` (plus client-side rate limiting on throttling). */
export const S3RetryMode = {
  Standard: 'standard',
  Adaptive: 'adaptive',
} as const;
/** One of {@link S3RetryMode}. */
export type S3RetryMode = (typeof S3RetryMode)[keyof typeof S3RetryMode];

/** Default attempts per S3 request (first try plus retries). */
export const DEFAULT_S3_MAX_ATTEMPTS = 8;

const booleanFlag = z
  .string()
  .trim()
  .toLowerCase()
  .pipe(z.enum(['1', 'true', 'yes', 'on', '0', 'false', 'no', 'off']))
  .transform((v) => ['1', 'true', 'yes', 'on'].includes(v));

/** The S3 settings the environment may give. */
export const S3SettingsSchema = z.object({
  /** A custom endpoint (MinIO, versitygw, Ceph, R2…); unset for AWS S3. */
  endpoint: z.url().optional(),
  /** Path-style addressing (`host/bucket/key`), which most S3-compatible servers need. */
  forcePathStyle: z.boolean(),
  /** Attempts per request, the first included. */
  maxAttempts: z.int().min(1).max(50),
  retryMode: z.enum([S3RetryMode.Standard, S3RetryMode.Adaptive]),
  /** Send `If-None-Match: *` on writes; turn off for servers that reject it. */
  conditionalWrites: z.boolean(),
});
/** The S3 settings the environment may give. */
export type S3Settings = z.infer<typeof S3SettingsSchema>;

/**
 * Reads the S3 settings from the environment.
 *
 * | variable | meaning |
 * |---|---|
 * | `MODELSHIP_S3_ENDPOINT` | custom endpoint URL (else `AWS_ENDPOINT_URL_S3` / `AWS_ENDPOINT_URL`, which the SDK reads itself) |
 * | `MODELSHIP_S3_FORCE_PATH_STYLE` | `true`/`false`; default `true` with a custom endpoint |
 * | `MODELSHIP_S3_MAX_ATTEMPTS` | attempts per request (else `AWS_MAX_ATTEMPTS`, else 8) |
 * | `MODELSHIP_S3_RETRY_MODE` | `standard` or `adaptive` (else `AWS_RETRY_MODE`, else `standard`) |
 * | `MODELSHIP_S3_CONDITIONAL_WRITES` | `false` to stop sending `If-None-Match: *` |
 *
 * @throws {@link UserError} naming the variable that holds a bad value
 */
export function readS3Settings(env: NodeJS.ProcessEnv = process.env): S3Settings {
  const endpoint = env.MODELSHIP_S3_ENDPOINT || undefined;
  const customEndpoint = endpoint ?? (env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL || undefined);
  const parse = <T>(name: string, schema: z.ZodType<T>, value: unknown): T => {
    const result = schema.safeParse(value);
    if (!result.success) throw new UserError(`${name}=${String(value)} is not valid: ${result.error.issues[0]?.message ?? 'bad value'}`, `fix or unset ${name}`);
    return result.data;
  };
  const attempts = env.MODELSHIP_S3_MAX_ATTEMPTS ?? env.AWS_MAX_ATTEMPTS;
  return {
    endpoint: endpoint === undefined ? undefined : parse('MODELSHIP_S3_ENDPOINT', z.url(), endpoint),
    forcePathStyle:
      env.MODELSHIP_S3_FORCE_PATH_STYLE === undefined
        ? customEndpoint !== undefined
        : parse('MODELSHIP_S3_FORCE_PATH_STYLE', booleanFlag, env.MODELSHIP_S3_FORCE_PATH_STYLE),
    maxAttempts:
      attempts === undefined
        ? DEFAULT_S3_MAX_ATTEMPTS
        : parse(env.MODELSHIP_S3_MAX_ATTEMPTS === undefined ? 'AWS_MAX_ATTEMPTS' : 'MODELSHIP_S3_MAX_ATTEMPTS', z.coerce.number().int().min(1).max(50), attempts),
    retryMode: parse(
      env.MODELSHIP_S3_RETRY_MODE === undefined ? 'AWS_RETRY_MODE' : 'MODELSHIP_S3_RETRY_MODE',
      S3SettingsSchema.shape.retryMode,
      env.MODELSHIP_S3_RETRY_MODE ?? env.AWS_RETRY_MODE ?? S3RetryMode.Standard,
    ),
    conditionalWrites:
      env.MODELSHIP_S3_CONDITIONAL_WRITES === undefined ? true : parse('MODELSHIP_S3_CONDITIONAL_WRITES', booleanFlag, env.MODELSHIP_S3_CONDITIONAL_WRITES),
  };
}

/** The endpoint a client talks to, in words, for error messages. */
export function describeEndpoint(settings: Pick<S3Settings, 'endpoint'>, env: NodeJS.ProcessEnv = process.env): string {
  return settings.endpoint ?? env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL ?? 'AWS S3';
}

/** Resolves the region from the SDK's own chain (env, profile), or `us-east-1` where that finds none. */
async function regionOrDefault(): Promise<string> {
  const probe = new S3Client({});
  try {
    return await probe.config.region();
  } catch {
    return 'us-east-1';
  } finally {
    probe.destroy();
  }
}

/** Builds the SDK client for the settings; `overrides` win (tests and embedders). */
export function createS3Client(settings: S3Settings, overrides: S3ClientConfig = {}, env: NodeJS.ProcessEnv = process.env): S3Client {
  const customEndpoint = settings.endpoint ?? env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL;
  let region: Promise<string> | undefined;
  return new S3Client({
    ...(settings.endpoint && { endpoint: settings.endpoint }),
    // S3-compatible servers rarely care about the region, but the SDK must sign with one.
    ...(customEndpoint && { region: () => (region ??= regionOrDefault()) }),
    forcePathStyle: settings.forcePathStyle,
    maxAttempts: settings.maxAttempts,
    retryMode: settings.retryMode,
    // Fail a dead connection instead of hanging; the retry strategy takes it from there.
    requestHandler: { connectionTimeout: 10_000, requestTimeout: 300_000 },
    ...overrides,
  });
}
