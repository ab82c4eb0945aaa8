/**
 * Follows a release and prints each step as it starts and ends, until the release closes.
 *
 * @module
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { WorkflowHandle } from '@temporalio/client';
import { statusQuery, type ReleaseStatus, type StepStatus } from '../../lib/release.ts';

/** One line for a step. */
export function formatStep(s: StepStatus): string {
  const where = [s.target, s.precision].filter(Boolean).join('/');
  const took = s.durationMs !== undefined ? ` ${(s.durationMs / 1000).toFixed(1)}s` : '';
  const verdict = s.verdict ? ` [${s.verdict}]` : '';
  return `${s.state.padEnd(7)} ${s.step}${where ? ` ${where}` : ''}${took}${verdict}${s.summary ? `  ${s.summary}` : ''}`;
}

/** Prints step changes until the workflow closes; returns the last status seen. */
export async function watchRelease(handle: WorkflowHandle, print: (line: string) => void, intervalMs = 1000): Promise<ReleaseStatus | undefined> {
  const seen = new Map<string, string>();
  let last: ReleaseStatus | undefined;
  for (;;) {
    const closed = (await handle.describe()).status.name !== 'RUNNING';
    try {
      last = await handle.query(statusQuery);
      for (const s of last.steps) {
        const key = `${s.step}|${s.target ?? ''}|${s.precision ?? ''}`;
        const line = formatStep(s);
        if (seen.get(key) !== `${s.state}${s.verdict ?? ''}`) {
          seen.set(key, `${s.state}${s.verdict ?? ''}`);
          print(line);
        }
      }
    } catch {
      // The first workflow task may not have run yet; the next poll will see it.
    }
    if (closed) return last;
    await sleep(intervalMs);
  }
}
