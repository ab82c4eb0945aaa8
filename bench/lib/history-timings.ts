/**
 * Timings read from workflow histories, for the benchmarks: per activity, its queue latency
 * (scheduled → started) and its run time (started → completed), and the orchestration gaps between
 * one activity's end and the next command of the same workflow.
 */
import type { temporal } from '@temporalio/proto';

type Event = temporal.api.history.v1.IHistoryEvent;

/** An event's time in milliseconds since the epoch. */
export const eventMs = (t: Event['eventTime']) => Number(t?.seconds ?? 0) * 1000 + Math.round((t?.nanos ?? 0) / 1e6);

/** One completed activity. */
export interface ActivityTiming {
  name: string;
  /** The queue it was scheduled on (a target's later steps: `<queue>@<workerId>`, one host's). */
  taskQueue: string;
  /** When a worker started it (ms since the epoch). */
  startedAt: number;
  queueMs: number;
  runMs: number;
}

/** Per completed activity: queue latency (scheduled → started) and run time (started → closed). */
export function activityTimings(events: Event[]): ActivityTiming[] {
  const scheduled = new Map<string, { name: string; taskQueue: string; at: number }>();
  const started = new Map<string, number>();
  const out: ActivityTiming[] = [];
  for (const e of events) {
    const id = String(e.eventId);
    const a = e.activityTaskScheduledEventAttributes;
    if (a) scheduled.set(id, { name: a.activityType?.name ?? '?', taskQueue: a.taskQueue?.name ?? '?', at: eventMs(e.eventTime) });
    const s = e.activityTaskStartedEventAttributes;
    if (s) started.set(String(s.scheduledEventId), eventMs(e.eventTime));
    const c = e.activityTaskCompletedEventAttributes;
    if (c) {
      const sch = scheduled.get(String(c.scheduledEventId))!;
      const st = started.get(String(c.scheduledEventId))!;
      out.push({ name: sch.name, taskQueue: sch.taskQueue, startedAt: st, queueMs: st - sch.at, runMs: eventMs(e.eventTime) - st });
    }
  }
  return out;
}

/**
 * The orchestration gap after each completed activity: from its completion to the next command the
 * workflow issued (the next activity scheduled, child started, or the workflow completed) — a
 * workflow task's round trip through the server and a worker.
 */
export function stepGaps(events: Event[]): number[] {
  const gaps: number[] = [];
  let completedAt: number | undefined;
  for (const e of events) {
    if (e.activityTaskCompletedEventAttributes) completedAt = eventMs(e.eventTime);
    const next = e.activityTaskScheduledEventAttributes ?? e.startChildWorkflowExecutionInitiatedEventAttributes ?? e.workflowExecutionCompletedEventAttributes;
    if (next && completedAt !== undefined) {
      gaps.push(eventMs(e.eventTime) - completedAt);
      completedAt = undefined;
    }
  }
  return gaps;
}

/** The q-quantile (0..1) of numbers, nearest rank. */
export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return Number.NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}
