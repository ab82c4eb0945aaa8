/**
 * Follows a release and prints each step as it starts and ends — and, once the rollout runs, each
 * decision record and the step waiting for approval — until the release closes.
 *
 * @module
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { statusQuery, type ReleaseStatus, type StepStatus } from '../../lib/release.ts';
import { rolloutStatusQuery, rolloutWorkflowId, type DecisionRecord, type RolloutStatus } from '../../lib/rollout.ts';
import { cliCommand } from '../self-command.ts';
import { ProgressPrinter, runningProgress } from './progress.ts';

/** One line for a step. */
export function formatStep(s: StepStatus): string {
  const where = [s.target, s.precision].filter(Boolean).join('/');
  const took = s.durationMs !== undefined ? ` ${(s.durationMs / 1000).toFixed(1)}s` : '';
  const verdict = s.verdict ? ` [${s.verdict}]` : '';
  return `${s.state.padEnd(7)} ${s.step}${where ? ` ${where}` : ''}${took}${verdict}${s.summary ? `  ${s.summary}` : ''}`;
}

/** One line for a decision record. */
export function formatDecision(d: DecisionRecord): string {
  const where = d.step !== undefined ? ` step ${d.step}${d.weight !== undefined ? ` (${d.weight}%)` : ''}` : '';
  const detail = d.detail as { checks?: { check: string; verdict: string; detail?: string }[] } | undefined;
  const checks = detail?.checks?.filter((c) => c.verdict !== 'skipped').map((c) => `${c.check} ${c.verdict}`).join(', ');
  return `#${d.seq} ${d.kind}${where}: ${d.verdict}${d.by ? ` by ${d.by}` : ''}${d.clientIdentity ? ` (client ${d.clientIdentity})` : ''}${d.reason ? ` — ${d.reason}` : ''}${checks ? ` [${checks}]` : ''}`;
}

/** What the watcher reports as it goes. */
export interface WatchCallbacks {
  print: (line: string) => void;
  /** Called each time a step starts waiting for approval (the demo approves here). */
  onAwaiting?: (rollout: RolloutStatus) => Promise<void> | void;
}

/** Prints step changes and rollout decisions until the workflow closes; returns the last status. */
export async function watchRelease(client: Client, handle: WorkflowHandle, callbacks: WatchCallbacks, intervalMs = 1000): Promise<ReleaseStatus | undefined> {
  const { print } = callbacks;
  const seen = new Map<string, string>();
  // By number, not by count: a rollout that continued as new may leave old analysis records out.
  let lastSeq = 0;
  let awaitingSeen: string | undefined;
  let last: ReleaseStatus | undefined;
  const rolloutHandle = client.workflow.getHandle(rolloutWorkflowId(handle.workflowId));
  const progress = new ProgressPrinter();
  for (;;) {
    const closed = (await handle.describe()).status.name !== 'RUNNING';
    try {
      last = await handle.query(statusQuery);
      for (const s of last.steps) {
        const key = `${s.step}|${s.target ?? ''}|${s.precision ?? ''}`;
        if (seen.get(key) !== `${s.state}${s.verdict ?? ''}`) {
          seen.set(key, `${s.state}${s.verdict ?? ''}`);
          print(formatStep(s));
        }
      }
      // Long steps (export, build, parity, bench) report how far they are: a bar per tenth.
      const running = last.steps.filter((s) => s.state === 'running' && s.step !== 'rollout');
      if (running.length && !closed) {
        const targets = [...new Set(running.flatMap((s) => (s.target ? [`${handle.workflowId}/target/${s.target}`] : [])))];
        for (const line of progress.lines(await runningProgress(client, [handle.workflowId, ...targets]))) print(line);
      }
      if (last.steps.some((s) => s.step === 'rollout')) {
        const rollout = closed ? last.rollout : await rolloutHandle.query(rolloutStatusQuery).catch(() => undefined);
        if (rollout) {
          for (const d of rollout.decisions) if (d.seq > lastSeq) print(`    ${formatDecision(d)}`);
          lastSeq = Math.max(lastSeq, rollout.decisions.at(-1)?.seq ?? 0);
          const awaiting = rollout.awaiting ? `${rollout.awaiting.step}` : undefined;
          if (awaiting && awaiting !== awaitingSeen) {
            awaitingSeen = awaiting;
            const a = rollout.awaiting!;
            print(`    waiting for approval of ${a.step === 0 ? 'the first release' : `step ${a.step} (${a.weight}%)`}: ${cliCommand()} release approve ${last.model} ${last.tag} --step ${a.step} --as <approver>`);
            await callbacks.onAwaiting?.(rollout);
          }
        }
      }
    } catch {
      // The first workflow task may not have run yet; the next poll will see it.
    }
    if (closed) return last;
    await sleep(intervalMs);
  }
}
