/**
 * Error types shared by every room. Names in {@link ErrorType} are the `type` of Temporal
 * `ApplicationFailure`s, so the workflow can tell a bad input from a gate that said no from an
 * infrastructure fault that deserves a retry.
 *
 * @module
 */

/** The failure types activities raise and workflows react to. */
export const ErrorType = {
  /** The request or the model repository is wrong; retrying cannot help. */
  BadInput: 'BadInput',
  /** A gate (metrics, parity, analysis) said no; the details hold its decision record. */
  GateFailed: 'GateFailed',
  /** A package path already holds different content. */
  ArtifactConflict: 'ArtifactConflict',
  /** A stored artifact does not match its recorded checksum. */
  IntegrityError: 'IntegrityError',
  /** No worker polls the target's task queue. */
  NoWorker: 'NoWorker',
  /** The toolkit crashed or the host failed; retryable. */
  Infrastructure: 'Infrastructure',
} as const;
/** One of {@link ErrorType}. */
export type ErrorType = (typeof ErrorType)[keyof typeof ErrorType];

/** Failure types that retrying cannot fix. */
export const NON_RETRYABLE_ERROR_TYPES: readonly ErrorType[] = [
  ErrorType.BadInput,
  ErrorType.GateFailed,
  ErrorType.ArtifactConflict,
  ErrorType.IntegrityError,
];

/** One wrong field: where, and what was expected. */
export interface FieldIssue {
  field: string;
  message: string;
}

/** A manifest that failed validation; the message lists every wrong field. */
export class ManifestError extends Error {
  override readonly name = 'ManifestError';
  constructor(
    readonly source: string,
    readonly issues: readonly FieldIssue[],
  ) {
    super(`${source} is not a valid release manifest:\n${issues.map((i) => `  ${i.field}: ${i.message}`).join('\n')}`);
  }
}

/** A user-facing error with a hint of what to do next. */
export class UserError extends Error {
  override readonly name = 'UserError';
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(hint ? `${message}\n  hint: ${hint}` : message);
  }
}
