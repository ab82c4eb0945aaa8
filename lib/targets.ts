/**
 * Which targets this build of modelship can carry through, checked before any work starts, and the
 * precision-ladder decision a target's workflow takes after each parity verdict (pure: the
 * workflow imports it).
 *
 * @module
 */
import { ManifestError, type FieldIssue } from './errors.ts';
import type { Manifest, Precision, TargetSpec } from './manifest.ts';

/** Backends whose build, parity and benchmark steps are implemented end to end. */
export const RUNNABLE_BACKENDS: readonly string[] = ['onnxruntime-cpu', 'tensorrt'];

/**
 * Refuses targets whose backend is validated but not runnable yet, naming each one.
 *
 * @throws {@link ManifestError}
 */
export function assertTargetsRunnable(manifest: Manifest, source = 'modelship.yaml'): void {
  const issues: FieldIssue[] = manifest.targets.flatMap((t, i) =>
    RUNNABLE_BACKENDS.includes(t.backend)
      ? []
      : [{ field: `targets[${i}].backend`, message: `${t.backend} releases are not available in this build of modelship` }],
  );
  if (issues.length) throw new ManifestError(source, issues);
}

/** One rung of a precision ladder that was tried. */
export interface LadderRung {
  precision: Precision;
  verdict: 'pass' | 'fail';
  /** Why it failed, one line (the failed parity checks). */
  reason?: string;
}

/** What a target does next on its ladder. */
export type LadderDecision =
  | { action: 'try'; precision: Precision }
  | { action: 'done'; precision: Precision; summary: string }
  | { action: 'exhausted'; summary: string };

/** The order a target builds its precisions in: its ladder, or (no ladder) its precisions. */
export function ladderOf(target: Pick<TargetSpec, 'ladder' | 'precisions'>): Precision[] | undefined {
  return target.ladder && target.ladder.length > 0 ? [...target.ladder] : undefined;
}

/**
 * The next step on a precision ladder, given the rungs tried so far (in ladder order): try the
 * next precision after a parity failure, stop at the first pass, or give up when all failed.
 * The summary says what happened, e.g. `int8 failed parity (minTop1Agreement 0.93 < 0.95), fell back to fp16`.
 */
export function decideLadder(ladder: readonly Precision[], tried: readonly LadderRung[]): LadderDecision {
  if (ladder.length === 0) throw new Error('a ladder needs at least one precision');
  tried.forEach((rung, i) => {
    if (ladder[i] !== rung.precision) throw new Error(`rung ${i} is ${rung.precision}, the ladder says ${ladder[i] ?? '(none)'}`);
  });
  const failures = tried.filter((r) => r.verdict === 'fail').map((r) => `${r.precision} failed parity${r.reason ? ` (${r.reason})` : ''}`);
  const passed = tried.find((r) => r.verdict === 'pass');
  if (passed) {
    const summary = failures.length ? `${failures.join(', ')}, fell back to ${passed.precision}` : `${passed.precision} passed parity (first on the ladder)`;
    return { action: 'done', precision: passed.precision, summary };
  }
  const next = ladder[tried.length];
  if (next) return { action: 'try', precision: next };
  return { action: 'exhausted', summary: `no precision on the ladder [${ladder.join(', ')}] passed parity: ${failures.join(', ')}` };
}

/** The failed checks of a parity report as one short reason, e.g. `minTop1Agreement 0.93 < 0.95`. */
export function parityFailureReason(report: { checks: { name: string; statistic: number | null; op: string; threshold: number; passed: boolean }[] }): string {
  const inverse: Record<string, string> = { '>=': '<', '<=': '>', '>': '<=', '<': '>=', '==': '!=' };
  return report.checks
    .filter((c) => !c.passed)
    .map((c) => `${c.name} ${c.statistic === null ? 'n/a' : Number(c.statistic.toPrecision(4))} ${inverse[c.op] ?? `!${c.op}`} ${c.threshold}`)
    .join(', ');
}
