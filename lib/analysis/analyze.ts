/**
 * The verdict of one analysis from what a metrics source observed: runs the checks of the mode and
 * combines them. Pure (no I/O, no clock), so workflows may import it.
 *
 * Combination: when the traffic check is inconclusive the analysis is `inconclusive` whatever the
 * other checks say (too little traffic never passes or fails); otherwise any `fail` fails it, then
 * any `inconclusive` makes it inconclusive, else it passes. `skipped` checks do not count.
 *
 * @module
 */
import { accuracyCheck } from './accuracy-check.ts';
import { checkContext } from './check-context.ts';
import { errorRateCheck, errorRateIncreaseCheck } from './error-rate-check.ts';
import { histogramTotal } from './histogram.ts';
import { latencyCheck } from './latency-check.ts';
import {
  AnalysisThresholdsSchema,
  type AnalysisMode,
  type AnalysisResult,
  type AnalysisThresholdsInput,
  type CheckRecord,
  type ShadowCounts,
  type Verdict,
  type WindowObservation,
} from './schemas.ts';
import { shadowAgreementCheck, shadowErrorRateCheck } from './shadow-checks.ts';
import { trafficCheck } from './traffic-check.ts';

/** What {@link analyzeWindow} needs besides the observation. */
export interface AnalyzeOptions {
  model: string;
  mode: AnalysisMode;
  thresholds: AnalysisThresholdsInput;
  /** Regression models skip shadow agreement. Default `classification`. */
  task?: 'classification' | 'regression';
}

/** The analysis verdict from check verdicts (see the module comment for the rule). */
export function combineVerdicts(checks: readonly Pick<CheckRecord, 'check' | 'verdict'>[]): Verdict {
  if (checks.some((c) => c.check === 'traffic' && c.verdict === 'inconclusive')) return 'inconclusive';
  if (checks.some((c) => c.verdict === 'fail')) return 'fail';
  if (checks.some((c) => c.verdict === 'inconclusive')) return 'inconclusive';
  return 'pass';
}

const EMPTY_SHADOW = (stableVersion: string, shadowVersion: string): ShadowCounts => ({
  stableVersion,
  shadowVersion,
  comparisons: 0,
  agreed: 0,
  failed: 0,
  dropped: 0,
  maxAbs: { buckets: [], count: 0 },
});

/** Runs the checks of `mode` on one window's observation and decides. */
export function analyzeWindow(obs: WindowObservation, opts: AnalyzeOptions): AnalysisResult {
  const thresholds = AnalysisThresholdsSchema.parse(opts.thresholds);
  const ctx = checkContext(thresholds, obs.queries, (Date.parse(obs.window.end) - Date.parse(obs.window.start)) / 1000);
  let checks: CheckRecord[];
  if (opts.mode === 'canary') {
    checks = [
      trafficCheck(ctx, obs.stable.requests, obs.candidate.requests),
      errorRateCheck(ctx, obs.stable, obs.candidate),
      errorRateIncreaseCheck(ctx, obs.stable, obs.candidate),
      latencyCheck(ctx, obs.stable, obs.candidate),
      accuracyCheck(ctx, obs.stable, obs.candidate),
    ];
  } else {
    const shadow = obs.shadow ?? EMPTY_SHADOW(obs.stable.version, obs.candidate.version);
    const mirrored = histogramTotal(shadow.maxAbs) + shadow.failed;
    checks = [
      trafficCheck(ctx, mirrored, mirrored, 'mirrored requests', 'shadowRequests'),
      shadowErrorRateCheck(ctx, shadow),
      shadowAgreementCheck(ctx, shadow, opts.task ?? 'classification'),
    ];
  }
  const verdict = combineVerdicts(checks);
  return {
    verdict,
    mode: opts.mode,
    model: opts.model,
    stableVersion: obs.stable.version,
    candidateVersion: obs.candidate.version,
    checks,
    window: obs.window,
    source: obs.source,
    thresholds,
    summary: summarize(verdict, checks),
  };
}

/** One line: the verdict and the checks that decided it. */
export function summarize(verdict: Verdict, checks: readonly CheckRecord[]): string {
  const by = (v: string) => checks.filter((c) => c.verdict === v);
  if (verdict === 'pass') return `pass: ${checks.filter((c) => c.verdict === 'pass').map((c) => c.check).join(', ')} within thresholds`;
  const deciding = verdict === 'fail' ? by('fail') : checks.some((c) => c.check === 'traffic' && c.verdict === 'inconclusive') ? by('inconclusive').filter((c) => c.check === 'traffic') : by('inconclusive');
  return `${verdict}: ${deciding.map((c) => `${c.check}: ${c.detail}`).join('; ')}`;
}
