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
  patched,
  proxyActivities,
  TimeoutFailure,
  workflowInfo,
} from '@temporalio/workflow';
import { TimeoutType } from '@temporalio/common';
import type { TargetActivities } from '../activities/index.ts';
import { ErrorType } from '../lib/errors.ts';
import type { Precision } from '../lib/manifest.ts';
import { targetStepSignal, type EngineResult, type TargetInput, type TargetResult, type TargetStepEvent } from '../lib/release.ts';
import { decideLadder, ladderOf, parityFailureReason, type LadderRung } from '../lib/targets.ts';
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

  // A precision ladder delivers one engine: the first precision whose parity passes. Histories
  // recorded before ladders existed have none, so they never reach this branch.
  const ladder = ladderOf(input.target);
  if (ladder && patched('precision-ladder')) {
    engines.push(await climbLadder(input, ladder, sharedQueue, notify));
    return { target: input.target.name, engines };
  }
  for (const precision of input.target.precisions) {
    engines.push(await onSomeWorker(input, sharedQueue, (worker) => buildCheckAndTime(input, precision, worker, notify)));
  }
  return { target: input.target.name, engines };
}

/**
 * Builds and checks each precision of the ladder in order until one passes parity (then times it);
 * the result's summary says which fell back and why. All failing is the parity gate saying no.
 */
async function climbLadder(input: TargetInput, ladder: Precision[], sharedQueue: string, notify: Notify): Promise<EngineResult> {
  const tried: LadderRung[] = [];
  const failed: EngineResult[] = [];
  const passed = new Map<Precision, EngineResult>();
  for (;;) {
    const decision = decideLadder(ladder, tried);
    if (decision.action === 'exhausted') {
      throw ApplicationFailure.create({
        type: ErrorType.GateFailed,
        nonRetryable: true,
        message: `${input.target.name}: ${decision.summary}`,
        details: [{ gate: 'parity', ladder, reports: failed.map((e) => e.parity) }],
      });
    }
    if (decision.action === 'done') {
      const winner = passed.get(decision.precision)!;
      return { ...winner, summary: `${winner.summary}; ${decision.summary}` };
    }
    const precision = decision.precision;
    const { result, report } = await onSomeWorker(input, sharedQueue, async (worker) => {
      const checked = await buildAndCheck(input, precision, worker, notify);
      if (checked.result.parityVerdict === 'pass') await timeEngine(input, checked.result, worker, notify);
      return checked;
    });
    tried.push({ precision, verdict: result.parityVerdict, reason: parityFailureReason(report) });
    if (result.parityVerdict === 'pass') passed.set(precision, result);
    else failed.push(result);
  }
}

type Notify = (event: Omit<TargetStepEvent, 'target'>) => Promise<void>;
type Worker = {
  workerId: string;
  /** The worker's activities, each call shown in the UI with `summary` (e.g. "parity cpu/int8"). */
  summarized: (summary: string) => TargetActivities;
};

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
            `(start one with: ${sharedQueue.startsWith('gpu-') ? `modelship worker --gpu on a host with ${sharedQueue.slice(4)} GPUs` : `modelship worker --queue ${sharedQueue}`})`,
        });
      }
      throw err;
    }
    const options = { ...LONG_STEP, taskQueue: claimed.queue, scheduleToStartTimeout: '5m' };
    const summarized = (summary: string) => proxyActivities<TargetActivities>({ ...options, summary });
    try {
      return await body({ workerId: claimed.workerId, summarized });
    } catch (err) {
      if (!isScheduleToStartTimeout(err) || attempt >= MAX_WORKER_CLAIMS) throw err;
      // The worker that claimed the target is gone for good: start over on another one.
    }
  }
}

type Checked = { result: EngineResult; report: { checks: { name: string; statistic: number | null; op: string; threshold: number; passed: boolean }[] } };

async function buildCheckAndTime(input: TargetInput, precision: Precision, worker: Worker, notify: Notify): Promise<EngineResult> {
  const { result } = await buildAndCheck(input, precision, worker, notify);
  if (result.parityVerdict === 'pass') await timeEngine(input, result, worker, notify);
  return result;
}

/** Runs a step between begin/end notifications to the release. */
async function notified<T>(notify: Notify, name: string, precision: Precision, body: () => Promise<T>, describe: (r: T) => Pick<TargetStepEvent, 'verdict' | 'summary'>): Promise<T> {
  await notify({ phase: 'begin', step: name, precision });
  try {
    const result = await body();
    await notify({ phase: 'end', step: name, precision, state: 'done', ...describe(result) });
    return result;
  } catch (err) {
    await notify({ phase: 'end', step: name, precision, state: 'failed', summary: failureMessage(err) });
    throw err;
  }
}

function stepBase(input: TargetInput, precision: Precision) {
  return { releaseId: input.releaseId, target: input.target, precision, source: input.source, exported: input.exported };
}

/** Steps 3 and 4 on one worker. */
async function buildAndCheck(input: TargetInput, precision: Precision, worker: Worker, notify: Notify): Promise<Checked> {
  const base = stepBase(input, precision);
  const label = `${input.target.name}/${precision}`;
  const built = await notified(notify, 'build', precision, () => worker.summarized(`build ${label}`).buildEngine(base), (b) => ({ summary: `${b.summary} on ${worker.workerId}` }));
  const parity = await notified(
    notify,
    'parity',
    precision,
    () => worker.summarized(`parity ${label}`).checkParity({ ...base, engine: built.engine }),
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
  return { result, report: parity.report };
}

/** Step 5, recorded on the result. */
async function timeEngine(input: TargetInput, result: EngineResult, worker: Worker, notify: Notify): Promise<void> {
  const base = stepBase(input, result.precision);
  const bench = await notified(notify, 'bench', result.precision, () => worker.summarized(`bench ${input.target.name}/${result.precision}`).benchmarkEngine({ ...base, engine: result.engine }), (b) => ({ summary: b.summary }));
  result.bench = bench.ref;
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
