/**
 * The traffic check: too few requests (canary) or compared rows (shadow) make the analysis
 * inconclusive — never a pass or a fail — so the workflow bakes longer. Pure.
 *
 * @module
 */
import { queryOf, record, type CheckContext } from './check-context.ts';
import type { CheckRecord } from './schemas.ts';

/** Enough requests on both variants (canary mode)? `pass` or `inconclusive`. */
export function trafficCheck(ctx: CheckContext, stable: number, candidate: number, unit = 'requests', queryKey = 'requests'): CheckRecord {
  const min = ctx.thresholds.minRequests;
  const low = Math.min(stable, candidate);
  const ok = low >= min;
  return record({
    check: 'traffic',
    query: queryOf(ctx, queryKey),
    samples: { stable, candidate },
    statistic: { name: `fewest ${unit} of a variant`, value: low, details: {} },
    threshold: { name: 'minRequests', value: min, rule: `inconclusive while either variant has fewer than minRequests ${unit}` },
    verdict: ok ? 'pass' : 'inconclusive',
    detail: ok
      ? `${Math.round(stable)} stable and ${Math.round(candidate)} candidate ${unit}, at least ${min} each`
      : `too little traffic: ${Math.round(stable)} stable and ${Math.round(candidate)} candidate ${unit}, need ${min} each; bake longer`,
  });
}
