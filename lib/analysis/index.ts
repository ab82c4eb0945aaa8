/**
 * Canary analysis: statistics and verdict logic, pure (no I/O), shared by the activity, the
 * workflow and the CLI.
 *
 * @module
 */
export * from './accuracy-check.ts';
export * from './analyze.ts';
export * from './check-context.ts';
export * from './error-rate-check.ts';
export * from './histogram.ts';
export * from './latency-check.ts';
export * from './mann-whitney.ts';
export * from './normal.ts';
export * from './proportions.ts';
export * from './schemas.ts';
export * from './shadow-checks.ts';
export * from './traffic-check.ts';
