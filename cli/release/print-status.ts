/**
 * Human-readable release status.
 *
 * @module
 */
import type { ReleaseStatus } from '../../lib/release.ts';
import { formatStep } from './watch.ts';

/** Prints the stage, each step, the packages and any failure. */
export function printStatus(status: ReleaseStatus, workflowStatus: string, uiUrl: string, print: (line: string) => void = console.log): void {
  print(`${status.releaseId}  stage: ${status.stage}  workflow: ${workflowStatus}`);
  if (status.commit) print(`commit: ${status.commit}`);
  for (const s of status.steps) print(`  ${formatStep(s)}`);
  for (const p of status.packages) print(`package ${p.target}-${p.precision}: ${p.uri}`);
  if (status.failure) print(`failed at ${status.failure.step} (${status.failure.type}): ${status.failure.message}`);
  print(`UI: ${uiUrl}`);
}
