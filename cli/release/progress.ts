/**
 * Progress of long steps for `--wait`: the heartbeats of the activities a release (and its target
 * children) are running — the toolkit's progress lines — read from the workflows' descriptions
 * and drawn as a bar each time a step moves on by a tenth.
 *
 * @module
 */
import type { Client } from '@temporalio/client';
import { ProgressEventSchema, type ProgressEvent } from '../../lib/toolkit-contract.ts';

/** The last progress line of one running activity. */
export interface ActivityProgress {
  workflowId: string;
  activityType: string;
  event: ProgressEvent;
}

/** The progress lines the running activities of `workflowIds` last reported (closed or unknown workflows give none). */
export async function runningProgress(client: Client, workflowIds: string[]): Promise<ActivityProgress[]> {
  const converter = client.options.loadedDataConverter.payloadConverter;
  const out: ActivityProgress[] = [];
  for (const workflowId of workflowIds) {
    const description = await client.workflow
      .getHandle(workflowId)
      .describe()
      .catch(() => undefined);
    for (const a of description?.raw.pendingActivities ?? []) {
      const payload = a.heartbeatDetails?.payloads?.at(-1);
      if (!payload) continue;
      let value: unknown;
      try {
        value = converter.fromPayload(payload);
      } catch {
        continue;
      }
      const event = ProgressEventSchema.safeParse(value);
      if (event.success) out.push({ workflowId, activityType: a.activityType?.name ?? '?', event: event.data });
    }
  }
  return out;
}

/** `[######--------------]  31% 310/1000` for a known total; the message alone otherwise. */
export function progressBar(event: ProgressEvent, width = 20): string {
  const { done, total } = event;
  if (done === undefined || !total || total <= 0) return event.message ?? '';
  const share = Math.min(1, Math.max(0, done / total));
  const filled = Math.round(share * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.floor(share * 100)).padStart(3)}% ${done}/${total}${event.message ? ` ${event.message}` : ''}`;
}

/** Remembers the last tenth printed per activity, so a bar is printed only when it moves on. */
export class ProgressPrinter {
  private readonly printed = new Map<string, number>();

  /** The lines worth printing for these progress reports (each activity once per tenth). */
  lines(progress: ActivityProgress[]): string[] {
    const out: string[] = [];
    for (const p of progress) {
      const { done, total } = p.event;
      if (done === undefined || !total) continue;
      const key = `${p.workflowId}|${p.activityType}|${p.event.step}`;
      const tenth = Math.floor((Math.min(done, total) / total) * 10);
      if ((this.printed.get(key) ?? -1) >= tenth) continue;
      this.printed.set(key, tenth);
      out.push(`        ${p.event.step} ${progressBar(p.event)}`);
    }
    return out;
  }
}
