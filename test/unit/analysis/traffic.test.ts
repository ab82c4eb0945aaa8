import { describe, expect, it } from 'vitest';
import { checkContext } from '../../../lib/analysis/check-context.ts';
import { AnalysisThresholdsSchema } from '../../../lib/analysis/schemas.ts';
import { trafficCheck } from '../../../lib/analysis/traffic-check.ts';

const thresholds = AnalysisThresholdsSchema.parse({ minRequests: 20 });

describe('the traffic check says what is missing and how long it would take', () => {
  it('at 1% of 80 requests/s: 16 candidate requests after 20 s, 4 missing, 5 s more', () => {
    const c = trafficCheck(checkContext(thresholds, {}, 20), 1584, 16);
    expect(c.verdict).toBe('inconclusive');
    expect(c.statistic.details).toEqual({ missing: 4, ratePerSecond: 0.8, secondsToEnough: 5 });
    expect(c.detail).toBe('too little traffic: 1584 stable and 16 candidate requests, need 20 each: 4 more requests on the slower variant, about 5 s more at its observed 0.80/s; bake longer');
  });

  it('says so when the slower variant has seen nothing, and gives no time', () => {
    const c = trafficCheck(checkContext(thresholds, {}, 30), 900, 0);
    expect(c.statistic.details).toEqual({ missing: 20, ratePerSecond: 0 });
    expect(c.detail).toMatch(/20 more requests on the slower variant, which has seen none yet/);
  });

  it('passes with nothing missing, and without a window length gives counts only', () => {
    expect(trafficCheck(checkContext(thresholds, {}, 10), 500, 20).statistic.details).toEqual({ missing: 0, ratePerSecond: 2 });
    const c = trafficCheck(checkContext(thresholds), 5, 5);
    expect(c.statistic.details).toEqual({ missing: 15 });
    expect(c.verdict).toBe('inconclusive');
  });
});
