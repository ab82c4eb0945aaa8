/**
 * The traffic check: too few requests (canary) or compared rows (shadow) make the analysis
 * inconclusive — never a pass or a fail — so the workflow bakes longer. Pure.
 *
 * @module
 */
import { queryOf, record, type CheckContext } from './check-context.ts';
import type { CheckRecord } from './schemas.ts';

/**
 * Enough requests on both variants (canary mode)? `pass` or `inconclusive`. When inconclusive, the
 * record says how many requests are missing and, at the rate observed over the window, about how
 * many more seconds of baking would bring them (`details.missing`, `details.ratePerSecond`,
 * `details.secondsToEnough`).
 */
export function trafficCheck(ctx: CheckContext, stable: number, candidate: number, unit = 'requests', queryKey = 'requests'): CheckRecord {
  const min = ctx.thresholds.minRequests;
  const low = Math.min(stable, candidate);
  const ok = low >= min;
  const missing = Math.max(0, Math.ceil(min - low));
  const rate = ctx.windowSeconds ? low / ctx.windowSeconds : undefined;
  const eta = missing > 0 && rate !== undefined && rate > 0 ? Math.ceil(missing / rate) : undefined;
  const details: Record<string, number> = { missing, ...(rate !== undefined ? { ratePerSecond: rate } : {}), ...(eta !== undefined ? { secondsToEnough: eta } : {}) };
  const later =
    eta !== undefined
      ? `${missing} more ${unit} on the slower variant, about ${eta} s more at its observed ${rate!.toPrecision(2)}/s`
      : `${missing} more ${unit} on the slower variant${rate === 0 ? ', which has seen none yet' : ''}`;
  return record({
    check: 'traffic',
    query: queryOf(ctx, queryKey),
    samples: { stable, candidate },
    statistic: { name: `fewest ${unit} of a variant`, value: low, details },
    threshold: { name: 'minRequests', value: min, rule: `inconclusive while either variant has fewer than minRequests ${unit}` },
    verdict: ok ? 'pass' : 'inconclusive',
    detail: ok
      ? `${Math.round(stable)} stable and ${Math.round(candidate)} candidate ${unit}, at least ${min} each`
      : `too little traffic: ${Math.round(stable)} stable and ${Math.round(candidate)} candidate ${unit}, need ${min} each: ${later}; bake longer`,
  });
}
