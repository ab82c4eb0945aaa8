/**
 * The rollout (steps 7–10), a child of the release. First release of a model: one approval, then
 * 100%. Otherwise: shadow → shadow gate → for each canary step: approval → weight → bake with
 * analysis every interval → promote at 100%. Rolls back on a failed analysis, a rejection, an
 * approval timeout (when the plan says so), a manual rollback, or cancellation; then verifies that
 * the stable version really serves. Every gate leaves a decision record.
 *
 * This file wires the parts in rollout/: records.ts (status, records, phases), approvals.ts (the
 * people: Updates, Signals, waiting), bake.ts (bake with analysis), continue-as-new.ts (a long
 * wait goes on in a new run; `input.resume` says where, and this run starts there).
 *
 * @module
 */
import { ApplicationFailure, CancellationScope, ContinueAsNew, isCancellation, proxyActivities, setHandler } from '@temporalio/workflow';
import type { RolloutActivities } from '../activities/index.ts';
import type { ServingSnapshot } from '../activities/rollout.ts';
import { ErrorType } from '../lib/errors.ts';
import { HANDLER_DESCRIPTIONS, RolloutPhase, rolloutStatusQuery, type RolloutInput, type RolloutStatus } from '../lib/rollout.ts';
import { RETRY } from './activity-options.ts';
import { Approvals } from './rollout/approvals.ts';
import { bakeWithAnalysis } from './rollout/bake.ts';
import { RollbackRequested, RolloutRecords } from './rollout/records.ts';
import { failureMessage } from './step-tracker.ts';

export { durationMs } from './rollout/records.ts';

const runtime = proxyActivities<RolloutActivities>({ startToCloseTimeout: '5m', retry: RETRY });

/** Moves traffic from the stable version to the release's package, with people and numbers deciding. */
export async function rollout(input: RolloutInput): Promise<RolloutStatus> {
  const { plan } = input;
  const records = new RolloutRecords(input);
  const { status } = records;
  const keep = records.keep.bind(records);
  const record = records.record.bind(records);
  const enter = records.enter.bind(records);
  const approvals = new Approvals(records);
  approvals.register();
  setHandler(rolloutStatusQuery, () => status, { description: HANDLER_DESCRIPTIONS.rolloutStatus });

  // A continued run (continue-as-new) starts at the wait the previous run was in.
  const at = input.resume?.at;
  const { context } = records;
  try {
    if (!input.resume) {
      const serving: ServingSnapshot = await runtime.inspectRuntime({ model: input.model });
      context.stableVersion = serving.stableVersion;
      status.stableVersion = serving.stableVersion;
      const fleet = await runtime.checkFleet({ package: input.package });
      await keep(record({ kind: 'fleet-check', verdict: fleet.ok ? 'pass' : 'fail', reason: fleet.summary, detail: { serving, fleet, package: input.package } }));
      if (!fleet.ok) throw new RollbackRequested(`the serving fleet cannot run this engine: ${fleet.summary}`);
      context.dir = await runtime.stagePackage({ model: input.model, tag: input.tag, package: input.package });
    }
    const { stableVersion } = context;
    const dir = context.dir!;

    if (!stableVersion) {
      // First release of this model: one approval, then all traffic.
      await approvals.awaitApproval(0, 100, at?.kind === 'approval' ? at : {});
      await runtime.loadVariant({ variant: 'stable', dir, model: input.model });
      status.weights = { candidate: 0, shadow: 0 };
    } else {
      const inShadow = at?.kind === 'bake' && at.step === 0;
      if (plan.shadow && (!at || inShadow)) {
        if (!at) {
          enter(RolloutPhase.Shadow, `shadowing ${stableVersion} with ${Math.round(plan.shadow.sampleShare * 100)}% of traffic`);
          await runtime.loadVariant({ variant: 'shadow', dir, model: input.model });
          await runtime.setTraffic({ shadow: Math.round(plan.shadow.sampleShare * 100), model: input.model });
          status.weights.shadow = Math.round(plan.shadow.sampleShare * 100);
        }
        await bakeWithAnalysis(records, approvals, { mode: 'shadow', bake: plan.shadow.duration, step: 0, weight: 0, stableVersion, started: inShadow ? at.started : undefined });
        await runtime.setTraffic({ shadow: 0, model: input.model });
        status.weights.shadow = 0;
      }
      if (!at || inShadow) await runtime.loadVariant({ variant: 'candidate', dir, model: input.model });
      let previousStepStart = at?.previousStepStart;
      for (const [i, step] of plan.canary.entries()) {
        if (at && i + 1 < at.step) continue;
        const resumeHere = at?.step === i + 1 ? at : undefined;
        let stepStart: number;
        if (resumeHere?.kind === 'bake') {
          stepStart = resumeHere.started;
        } else {
          await approvals.awaitApproval(i + 1, step.weight, { ...resumeHere, previousStepStart });
          enter(RolloutPhase.Canary, `canary step ${i + 1}: ${step.weight}% to ${input.tag}, baking ${step.bake}`);
          await runtime.setTraffic({ candidate: step.weight, model: input.model });
          status.weights.candidate = step.weight;
          stepStart = Date.now();
        }
        // At 100% the stable serves nothing: compare over a window reaching back into the previous
        // step, when both versions served side by side (the stable stays loaded and warm).
        await bakeWithAnalysis(records, approvals, {
          mode: 'canary',
          bake: step.bake,
          step: i + 1,
          weight: step.weight,
          stableVersion,
          windowFrom: step.weight >= 100 ? previousStepStart : undefined,
          started: stepStart,
          previousStepStart,
        });
        previousStepStart = stepStart;
      }
      await runtime.promoteCandidate({ version: input.tag, model: input.model });
      status.weights = { candidate: 0, shadow: 0 };
    }
    const after = await runtime.verifyServing({ model: input.model });
    const ok = after.stableVersion === input.tag && after.ready;
    await keep(record({ kind: 'verification', verdict: ok ? 'pass' : 'fail', detail: after, reason: `stable serves ${after.stableVersion}` }));
    if (!ok) throw ApplicationFailure.nonRetryable(`after promotion the runtime serves ${after.stableVersion}, not ${input.tag}`, ErrorType.Infrastructure);
    await keep(record({ kind: 'promotion', verdict: 'done', reason: `${input.tag} is stable` }));
    status.outcome = 'promoted';
    enter(RolloutPhase.Promoted, `${input.tag} promoted`);
    return status;
  } catch (err) {
    if (err instanceof ContinueAsNew) throw err;
    const { stableVersion } = context;
    const reason = err instanceof RollbackRequested ? err.reason : isCancellation(err) ? 'the release was cancelled' : `rollout failed: ${failureMessage(err)}`;
    // Compensation runs even when the workflow is being cancelled.
    await CancellationScope.nonCancellable(async () => {
      await runtime.rollbackRuntime({ model: input.model });
      status.weights = { candidate: 0, shadow: 0 };
      status.awaiting = undefined;
      const after = await runtime.verifyServing({ model: input.model });
      const ok = after.stableVersion === stableVersion && !after.candidateVersion && !after.shadowVersion;
      await keep(record({ kind: 'rollback', verdict: ok ? 'done' : 'fail', reason, detail: after }));
      status.outcome = 'rolled-back';
      enter(RolloutPhase.RolledBack, `rolled back: ${reason}; ${stableVersion ?? 'nothing'} serves`);
    });
    if (isCancellation(err)) throw err;
    return status;
  }
}
