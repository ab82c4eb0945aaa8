/**
 * Activity factories by queue: control-queue activities, and target-worker activities.
 *
 * @module
 */
import type { ActivityDeps } from './deps.ts';
import { createEngineActivities, type WorkerIdentity } from './engine.ts';
import { createExportActivities } from './export.ts';
import { createPackageActivities } from './package.ts';
import { createReportActivities } from './report/index.ts';
import { createResolveActivities } from './resolve.ts';
import { createRolloutActivities, type RolloutDeps } from './rollout.ts';

/** Activities of the control queue: resolve, export, package. */
export function createControlActivities(deps: ActivityDeps) {
  return { ...createResolveActivities(deps), ...createExportActivities(deps), ...createPackageActivities(deps), ...createReportActivities(deps) };
}

/** Activities of a target's queues: claim, build, parity, bench. */
export function createTargetActivities(deps: ActivityDeps, identity: WorkerIdentity) {
  return createEngineActivities(deps, identity);
}

/** Activities that drive the serving runtime (steps 7–10). */
export { createRolloutActivities };

/** Control-queue activity interface, for `proxyActivities`. */
export type ControlActivities = ReturnType<typeof createControlActivities>;
/** Target activity interface, for `proxyActivities`. */
export type TargetActivities = ReturnType<typeof createTargetActivities>;
/** Rollout activity interface, for `proxyActivities`. */
export type RolloutActivities = ReturnType<typeof createRolloutActivities>;
export type { RolloutDeps };
