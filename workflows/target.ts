/**
 * One target's steps 3–5 (build → parity → bench per precision), as a child of the release.
 * The first activity goes to the target's shared queue with a schedule-to-start timeout, so a queue
 * that no worker polls surfaces as a `NoWorker` failure instead of waiting forever; the rest go to
 * the worker that answered, on its own queue.
 *
 * @module
 */
import {
  ActivityFailure,
  ApplicationFailure,
  getExternalWorkflowHandle,
  proxyActivities,
  TimeoutFailure,
  workflowInfo,
} from '@temporalio/workflow';
import { TimeoutType } from '@temporalio/common';
import type { TargetActivities } from '../activities/index.ts';
import { ErrorType } from '../lib/errors.ts';
import type { Precision } from '../lib/manifest.ts';
import { targetStepSignal, type EngineResult, type TargetInput, type TargetResult, type TargetStepEvent } from '../lib/release.ts';
import { queueForTarget } from '../lib/task-queues.ts';
import { LONG_STEP } from './activity-options.ts';
import { failureMessage } from './step-tracker.ts';

/** How many times a target looks for a new worker when its worker's queue goes quiet. */
const MAX_WORKER_CLAIMS = 3;

/** Builds, checks and times every precision of one target on one worker. */
export async function buildTarget(input: TargetInput): Promise<TargetResult> {
  const parentId = workflowInfo().parent?.workflowId;
  const notify = async (event: Omit<TargetStepEvent, 'target'>) => {
    if (parentId) await getExternalWorkflowHandle(parentId).signal(targetStepSignal, { ...event, target: input.target.name });
  };
  const sharedQueue = queueForTarget(input.target);
  const engines: EngineResult[] = [];

  for (const precision of input.target.precisions) {
    engines.push(await onSomeWorker(input, sharedQueue, (worker) => buildCheckAndTime(input, precision, worker, notify)));
  }
  return { target: input.target.name, engines };
}

type Notify = (event: Omit<TargetStepEvent, 'target'>) => Promise<void>;
type Worker = { workerId: string; activities: TargetActivities };

/** Finds a worker on the shared queue and runs `body` on it; finds another if that one vanishes. */
async function onSomeWorker<T>(input: TargetInput, sharedQueue: string, body: (worker: Worker) => Promise<T>): Promise<T> {
  const claim = proxyActivities<TargetActivities>({
    taskQueue: sharedQueue,
    scheduleToStartTimeout: `${input.noWorkerTimeoutSeconds}s`,
    startToCloseTimeout: '1m',
    retry: { maximumAttempts: 3 },
  });
  for (let attempt = 1; ; attempt++) {
    let claimed: { workerId: string; queue: string };
    try {
      claimed = await claim.claimWorker(sharedQueue);
    } catch (err) {
      if (isScheduleToStartTimeout(err)) {
        throw ApplicationFailure.create({
          type: ErrorType.NoWorker,
          nonRetryable: true,
          message:
            `no worker for ${sharedQueue}: nothing polled task queue "${sharedQueue}" for ${input.noWorkerTimeoutSeconds}s ` +
            `(start one with: modelship worker --queue ${sharedQueue})`,
        });
      }
      throw err;
    }
    const activities = proxyActivities<TargetActivities>({ ...LONG_STEP, taskQueue: claimed.queue, scheduleToStartTimeout: '5m' });
    try {
      return await body({ workerId: claimed.workerId, activities });
    } catch (err) {
      if (!isScheduleToStartTimeout(err) || attempt >= MAX_WORKER_CLAIMS) throw err;
      // The worker that claimed the target is gone for good: start over on another one.
    }
  }
}

async function buildCheckAndTime(input: TargetInput, precision: Precision, worker: Worker, notify: Notify): Promise<EngineResult> {
  const base = { releaseId: input.releaseId, target: input.target, precision, source: input.source, exported: input.exported };
  const step = async <T>(name: string, body: () => Promise<T>, describe: (r: T) => Pick<TargetStepEvent, 'verdict' | 'summary'>) => {
    await notify({ phase: 'begin', step: name, precision });
    try {
      const result = await body();
      await notify({ phase: 'end', step: name, precision, state: 'done', ...describe(result) });
      return result;
    } catch (err) {
      await notify({ phase: 'end', step: name, precision, state: 'failed', summary: failureMessage(err) });
      throw err;
    }
  };

  const built = await step('build', () => worker.activities.buildEngine(base), (b) => ({ summary: `${b.summary} on ${worker.workerId}` }));
  const parity = await step(
    'parity',
    () => worker.activities.checkParity({ ...base, engine: built.engine }),
    (p) => ({ verdict: p.report.verdict, summary: paritySummary(p.report) }),
  );
  const result: EngineResult = {
    target: input.target.name,
    backend: input.target.backend,
    precision,
    workerId: worker.workerId,
    engine: built.engine,
    buildReport: built.buildReport,
    buildLog: built.buildLog,
    parity: parity.ref,
    parityVerdict: parity.report.verdict,
    summary: built.summary,
  };
  if (parity.report.verdict === 'pass') {
    const bench = await step('bench', () => worker.activities.benchmarkEngine({ ...base, engine: built.engine }), (b) => ({ summary: b.summary }));
    result.bench = bench.ref;
  }
  return result;
}

/** One line: the statistics the verdict rests on. */
export function paritySummary(report: { samples: number; stats: { maxAbs: number; top1?: { rate: number } }; checks: { name: string; passed: boolean }[] }): string {
  const failed = report.checks.filter((c) => !c.passed).map((c) => c.name);
  const top1 = report.stats.top1 ? `, top-1 agreement ${(report.stats.top1.rate * 100).toFixed(2)}%` : '';
  return `${report.samples} samples, max_abs ${report.stats.maxAbs.toExponential(2)}${top1}${failed.length ? `; failed: ${failed.join(', ')}` : ''}`;
}

function isScheduleToStartTimeout(err: unknown): boolean {
  return (
    err instanceof ActivityFailure &&
    err.cause instanceof TimeoutFailure &&
    err.cause.timeoutType === TimeoutType.SCHEDULE_TO_START
  );
}
