/**
 * The `analyzeCanary` activity: observe the window through a metrics source, then decide with the
 * pure analysis in lib/analysis. Shadow mode judges the shadow's agreement with the stable and its
 * failures; canary mode judges the candidate's requests against the stable's in the same window.
 *
 * @module
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { analyzeWindow, AnalyzeCanaryInputSchema, type AnalysisResult, type AnalyzeCanaryInputArg } from '../../lib/analysis/index.ts';
import { ErrorType } from '../../lib/errors.ts';
import { formatFieldPath } from '../../lib/field-path.ts';
import { MetricsSourceError, type MetricsSource, type ObserveOptions } from './source.ts';

/** Dependencies of {@link createAnalysisActivities}. */
export interface AnalysisActivityDeps {
  /** Where the numbers come from: {@link createPrometheusSource} or {@link createScrapeSource}. */
  source: MetricsSource;
}

/** Heartbeats and cancellation of the current activity; none when called outside one (tests, CLI). */
function activityHooks(): ObserveOptions {
  try {
    const ctx = Context.current();
    return { heartbeat: (d) => ctx.heartbeat(d), signal: ctx.cancellationSignal };
  } catch {
    return {};
  }
}

/** Builds the analysis activities around a metrics source. */
export function createAnalysisActivities(deps: AnalysisActivityDeps) {
  return {
    /**
     * Analyses the candidate (or shadow) against the stable over the last `windowSeconds`.
     *
     * @returns the verdict and a decision record per check; `inconclusive` means bake longer
     * @throws ApplicationFailure `BadInput` (not retryable) for a malformed input;
     *   `Infrastructure` (retryable) when the metrics source cannot be read
     */
    async analyzeCanary(input: AnalyzeCanaryInputArg): Promise<AnalysisResult> {
      const parsed = AnalyzeCanaryInputSchema.safeParse(input);
      if (!parsed.success) {
        const issues = parsed.error.issues.map((i) => ({ field: formatFieldPath(i.path), message: i.message }));
        throw ApplicationFailure.nonRetryable(`analyzeCanary: bad input: ${issues.map((i) => `${i.field}: ${i.message}`).join('; ')}`, ErrorType.BadInput, { issues });
      }
      const a = parsed.data;
      try {
        const obs = await deps.source.observe(
          { model: a.model, stableVersion: a.stableVersion, candidateVersion: a.candidateVersion, windowSeconds: a.windowSeconds, mode: a.mode },
          activityHooks(),
        );
        return analyzeWindow(obs, { model: a.model, mode: a.mode, thresholds: a.thresholds, task: a.task });
      } catch (e) {
        if (e instanceof MetricsSourceError) throw ApplicationFailure.retryable(e.message, ErrorType.Infrastructure, { hint: e.hint });
        throw e;
      }
    },
  };
}

/** The analysis activity interface, for `proxyActivities`. */
export type AnalysisActivities = ReturnType<typeof createAnalysisActivities>;
