/**
 * The release workflow: a git tag becomes verified, packaged engines (steps 1–6). Resolve and
 * export run on the control queue, each target runs as a child workflow, then the package step
 * writes what passed. The `status` query, the ReleaseStage search attribute and the memo tell
 * people where it stands.
 *
 * @module
 */
import {
  ApplicationFailure,
  executeChild,
  log,
  patched,
  proxyActivities,
  setHandler,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
  type ChildWorkflowOptions,
} from '@temporalio/workflow';
import type { ControlActivities } from '../activities/index.ts';
import { ErrorType } from '../lib/errors.ts';
import {
  ReleaseStage,
  statusQuery,
  targetStepSignal,
  type TargetStepEvent,
  type ReleaseInput,
  type ReleaseStatus,
  type TargetResult,
} from '../lib/release.ts';
import { rolloutWorkflowId } from '../lib/rollout.ts';
import { parseTargetStepEvent } from '../lib/rollout-args.ts';
import { GitTagKey, ModelNameKey, ReleaseStageKey } from '../lib/search-attributes.ts';
import { LONG_STEP } from './activity-options.ts';
import { failureMessage, StepTracker } from './step-tracker.ts';
import { rollout } from './rollout.ts';
import { buildTarget } from './target.ts';

const control = proxyActivities<ControlActivities>(LONG_STEP);

/** Default seconds a target queue may have no worker before the release says so. */
export const DEFAULT_NO_WORKER_TIMEOUT_SECONDS = 300;

/** Carries a tag through resolve → export → build/parity/bench per target → package. */
export async function release(input: ReleaseInput): Promise<ReleaseStatus> {
  const releaseId = workflowInfo().workflowId;
  const status: ReleaseStatus = { releaseId, tag: input.tag, stage: ReleaseStage.Resolving, steps: [], packages: [] };
  const steps = new StepTracker(status.steps);
  setHandler(statusQuery, () => status);
  setHandler(targetStepSignal, (raw: unknown) => {
    // Anyone can signal a workflow: a malformed payload is counted and ignored, never thrown.
    let e: TargetStepEvent;
    try {
      e = parseTargetStepEvent(raw);
    } catch (err) {
      status.refusedSignals = { count: (status.refusedSignals?.count ?? 0) + 1, last: (err as Error).message.slice(0, 500) };
      return;
    }
    const key = { step: e.step, target: e.target, precision: e.precision };
    if (e.phase === 'begin') steps.begin(key);
    else steps.end(key, { state: e.state ?? 'done', verdict: e.verdict, summary: e.summary });
  });
  const enter = (stage: ReleaseStage, summary?: string) => {
    status.stage = stage;
    upsertSearchAttributes([{ key: ReleaseStageKey, value: stage }]);
    upsertMemo({ summary: summary ?? `${status.model ?? ''} ${input.tag}: ${stage}`.trim() });
  };

  let current = 'resolve';
  try {
    enter(ReleaseStage.Resolving);
    const source = await steps.run({ step: 'resolve' }, () => control.resolveSource({ ...input, releaseId }), (s) => ({
      verdict: 'pass',
      summary: `commit ${s.commit.slice(0, 12)}; ${s.checks.map((c) => `${c.name} ${c.statistic} ${c.op} ${c.threshold}`).join(', ')}`,
    }));
    status.model = source.model;
    status.commit = source.commit;

    current = 'export';
    enter(ReleaseStage.Exporting);
    const exported = await steps.run({ step: 'export' }, () => control.exportOnnx({ releaseId, source }), (e) => ({
      summary: e.notes
        ? `${e.exporter} exporter, opset ${e.opsetWritten}${e.notes.length ? `; ${e.notes.join('; ')}` : ''}`
        : `${e.exporter} exporter, opset ${e.opsetWritten}${e.watchList.length ? `; watch: ${e.watchList.map((w) => w.op).join(', ')}` : ''}`,
    }));

    current = 'build';
    enter(ReleaseStage.Building);
    const targets: TargetResult[] = await Promise.all(
      source.manifest.targets.map((target) =>
        executeChild(buildTarget, {
          workflowId: `${releaseId}/target/${target.name}`,
          ...childMetadata(source.model, input.tag, `${source.model} ${input.tag}: target ${target.name} (${target.backend}: ${target.precisions.join(', ')})`),
          args: [
            {
              releaseId,
              target,
              source,
              exported,
              noWorkerTimeoutSeconds: input.noWorkerTimeoutSeconds ?? DEFAULT_NO_WORKER_TIMEOUT_SECONDS,
            },
          ],
        }),
      ),
    );
    const engines = targets.flatMap((t) => t.engines);
    const failed = engines.filter((e) => e.parityVerdict === 'fail');
    if (failed.length > 0) {
      current = 'parity';
      throw ApplicationFailure.create({
        type: ErrorType.GateFailed,
        nonRetryable: true,
        message: `parity gate failed for ${failed.map((e) => `${e.target}/${e.precision}`).join(', ')}: see parity.json (${failed.map((e) => e.parity.uri).join(', ')})`,
        details: [{ gate: 'parity', reports: failed.map((e) => e.parity) }],
      });
    }

    current = 'package';
    enter(ReleaseStage.Packaging);
    status.packages = await steps.run(
      { step: 'package' },
      () =>
        control.packageRelease({
          releaseId,
          source,
          exported,
          engines,
          createdAt: new Date(Date.now()).toISOString(),
          requestedBy: input.requestedBy,
        }),
      (p) => ({ summary: `${p.length} package(s): ${p.map((x) => `${x.target}-${x.precision}`).join(', ')}` }),
    );
    enter(ReleaseStage.Packaged, `${source.model} ${input.tag} packaged: ${status.packages.map((p) => `${p.target}-${p.precision}`).join(', ')}`);

    // Steps 7–10. Histories recorded before the rollout existed replay without it.
    const plan = source.manifest.rollout;
    if (plan && input.rollout !== false && patched('rollout-after-package')) {
      current = 'rollout';
      const serve = plan.serve ?? { target: source.manifest.targets[0]!.name, precision: source.manifest.targets[0]!.precisions[0]! };
      // With a precision ladder the delivered precision is decided at run time: fall back to the target's package.
      const pkg = status.packages.find((p) => p.target === serve.target && p.precision === serve.precision) ?? status.packages.find((p) => p.target === serve.target)!;
      enter(ReleaseStage.RollingOut, `${source.model} ${input.tag}: rolling out ${serve.target}-${serve.precision}`);
      steps.begin({ step: 'rollout', target: serve.target, precision: serve.precision });
      status.rollout = await executeChild(rollout, {
        workflowId: rolloutWorkflowId(releaseId),
        ...childMetadata(source.model, input.tag, `${source.model} ${input.tag}: rollout of ${serve.target}-${serve.precision}`),
        args: [{ releaseId, model: source.model, tag: input.tag, package: pkg, plan }],
      });
      const promoted = status.rollout.outcome === 'promoted';
      const last = status.rollout.decisions.at(-1);
      steps.end({ step: 'rollout', target: serve.target, precision: serve.precision }, { state: 'done', verdict: promoted ? 'pass' : 'fail', summary: last?.reason });
      enter(promoted ? ReleaseStage.Promoted : ReleaseStage.RolledBack, `${source.model} ${input.tag} ${promoted ? 'promoted' : `rolled back: ${last?.reason ?? ''}`}`);
    }
    // The report is evidence, not a gate: a release that cannot write it still ends as it did.
    if (patched('release-report')) {
      status.report = await control.writeReleaseReport(status).catch((err: unknown) => {
        log.warn('the release report was not written', { error: failureMessage(err) });
        return undefined;
      });
    }
    return status;
  } catch (err) {
    const type = (innermost(err) as { type?: string }).type ?? 'Error';
    status.failure = { step: current, type, message: failureMessage(err) };
    enter(ReleaseStage.Failed, `${status.model ?? ''} ${input.tag} failed at ${current}: ${status.failure.message}`.trim());
    throw err;
  }
}

/**
 * What a child workflow shows in the UI: the release's ModelName and GitTag (so
 * `ModelName="x" AND ReleaseStage="awaiting-approval"` finds the waiting rollout) and a summary.
 * Histories recorded before children carried them replay without.
 */
function childMetadata(model: string, tag: string, summary: string): Pick<ChildWorkflowOptions, 'typedSearchAttributes' | 'staticSummary'> {
  if (!patched('child-search-attributes')) return {};
  return { typedSearchAttributes: [{ key: ModelNameKey, value: model }, { key: GitTagKey, value: tag }], staticSummary: summary };
}

function innermost(err: unknown): unknown {
  let e = err as { cause?: unknown };
  while (e?.cause) e = e.cause as typeof e;
  return e;
}
