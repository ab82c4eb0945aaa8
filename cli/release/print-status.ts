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
  const r = status.rollout;
  if (r) {
    print(`rollout: ${r.phase}${r.outcome ? ` (${r.outcome})` : ''}; stable ${r.stableVersion ?? 'none'}, candidate ${r.candidateVersion}; weights candidate ${r.weights.candidate}% shadow ${r.weights.shadow}%`);
    if (r.awaiting) print(`  waiting for approval: step ${r.awaiting.step} (${r.awaiting.weight}%) since ${r.awaiting.since}`);
    const analysis = [...r.decisions].reverse().find((d) => d.kind === 'analysis' || d.kind === 'shadow-gate');
    if (analysis) print(`  latest analysis (${analysis.kind}, step ${analysis.step ?? 0}): ${analysis.verdict}`);
    for (const d of r.decisions.slice(-5)) print(`  #${d.seq} ${d.kind} ${d.verdict}${d.by ? ` by ${d.by}` : ''}${d.reason ? `: ${d.reason}` : ''}`);
  }
  if (status.failure) print(`failed at ${status.failure.step} (${status.failure.type}): ${status.failure.message}`);
  print(`UI: ${uiUrl}`);
}
