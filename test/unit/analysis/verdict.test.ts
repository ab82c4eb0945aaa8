import { describe, expect, it } from 'vitest';
import { analyzeWindow, combineVerdicts } from '../../../lib/analysis/analyze.ts';
import { AnalysisResultSchema, type VariantCounts, type WindowObservation } from '../../../lib/analysis/schemas.ts';

const LES = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];

/** A latency histogram from per-bucket counts over LES (last entry: the +Inf bucket). */
function hist(perBucket: number[]) {
  let cum = 0;
  const buckets = LES.map((le, i) => ({ le, count: (cum += perBucket[i] ?? 0) }));
  return { buckets, count: cum + (perBucket[LES.length] ?? 0) };
}

const FAST = [0, 20, 60, 15, 5]; // 100 observations, median in (0.0025, 0.005]
const SLOW = [0, 0, 0, 5, 20, 60, 15]; // median in (0.025, 0.05]

function variant(version: string, over: Partial<VariantCounts> = {}, latency = FAST, scale = 5): VariantCounts {
  const lat = hist(latency.map((c) => c * scale));
  return { version, requests: lat.count, errors: 0, latency: lat, labelled: 0, correct: 0, ...over };
}

function obs(stable: VariantCounts, candidate: VariantCounts, shadow?: WindowObservation['shadow']): WindowObservation {
  return {
    source: 'prometheus',
    window: { start: '2025-01-01T00:00:00.000Z', end: '2025-01-01T00:01:00.000Z' },
    queries: { requests: 'sum by (version, code) (increase(modelship_requests_total[60s]))', latency: 'q-latency', errors: 'q-errors', accuracy: 'q-acc' },
    stable,
    candidate,
    ...(shadow ? { shadow } : {}),
  };
}

const canary = (o: WindowObservation, thresholds = {}) => analyzeWindow(o, { model: 'digits', mode: 'canary', thresholds });
const check = (r: ReturnType<typeof canary>, name: string) => r.checks.find((c) => c.check === name)!;

describe('canary verdicts', () => {
  it('passes an equal candidate, with a schema-valid decision record per check', () => {
    const r = canary(obs(variant('v1'), variant('v2')));
    expect(r.verdict).toBe('pass');
    expect(AnalysisResultSchema.parse(r)).toEqual(r);
    expect(r.checks.map((c) => c.check)).toEqual(['traffic', 'error-rate', 'error-rate-increase', 'latency', 'accuracy']);
    expect(check(r, 'accuracy').verdict).toBe('skipped');
    expect(check(r, 'latency').statistic.details.pValue).toBeGreaterThan(0.4);
    expect(check(r, 'traffic').query).toContain('modelship_requests_total');
    expect(r.thresholds.maxErrorRate).toBe(0.01);
  });

  it('fails a slower candidate on latency, with the p-value and medians in the record', () => {
    const r = canary(obs(variant('v1'), variant('v2', {}, SLOW)));
    expect(r.verdict).toBe('fail');
    const lat = check(r, 'latency');
    expect(lat.verdict).toBe('fail');
    expect(lat.statistic.details.pValue).toBeLessThan(1e-6);
    expect(lat.statistic.value).toBeGreaterThan(5);
    expect(lat.threshold.value).toBe(0.2);
    expect(r.summary).toMatch(/^fail: latency: candidate is slower/);
  });

  it('passes a significant but small latency shift (effect-size bound)', () => {
    // Same buckets, a little more weight in the upper half: significant with 5000 each, median +~10%.
    const r = canary(obs(variant('v1', {}, [0, 20, 60, 15, 5], 50), variant('v2', {}, [0, 17, 60, 18, 5], 50)));
    const lat = check(r, 'latency');
    expect(lat.statistic.details.pValue).toBeLessThan(0.05);
    expect(lat.statistic.value).toBeLessThan(0.2);
    expect(lat.verdict).toBe('pass');
  });

  it('fails a candidate whose errors are clearly above the ceiling and the stable', () => {
    const r = canary(obs(variant('v1'), variant('v2', { requests: 600, errors: 60 })));
    expect(check(r, 'error-rate').verdict).toBe('fail');
    expect(check(r, 'error-rate-increase').verdict).toBe('fail');
    expect(r.verdict).toBe('fail');
  });

  it('is inconclusive, not failing, on a few errors in a small sample', () => {
    // 2 of 100 = 2% > 1% ceiling, but the Wilson lower bound is below 1%.
    const r = canary(obs(variant('v1', {}, FAST, 1), variant('v2', { requests: 100, errors: 2 }, FAST, 1)));
    expect(check(r, 'error-rate').verdict).toBe('inconclusive');
    expect(check(r, 'error-rate').statistic.details.lowerBound).toBeLessThan(0.01);
    expect(r.verdict).toBe('inconclusive');
  });

  it('judges the increase against the stable in the same window', () => {
    // Both at 0.8% (under the 1% ceiling): no increase → pass.
    const r = canary(obs(variant('v1', { requests: 5000, errors: 40 }), variant('v2', { requests: 5000, errors: 40 })));
    expect(check(r, 'error-rate-increase').verdict).toBe('pass');
    expect(r.verdict).toBe('pass');
    // Stable 0%, candidate 3% of 5000 with a 5% ceiling: the increase fails alone.
    const r2 = canary(obs(variant('v1', { requests: 5000 }), variant('v2', { requests: 5000, errors: 150 })), { maxErrorRate: 0.05 });
    expect(check(r2, 'error-rate').verdict).toBe('pass');
    expect(check(r2, 'error-rate-increase').verdict).toBe('fail');
  });

  it('is inconclusive with too little traffic, even when the candidate looks bad', () => {
    const r = canary(obs(variant('v1'), variant('v2', { requests: 20, errors: 20, latency: hist([]) })));
    expect(check(r, 'traffic').verdict).toBe('inconclusive');
    expect(r.verdict).toBe('inconclusive');
    expect(r.summary).toMatch(/^inconclusive: traffic: too little traffic/);
  });

  it('compares live accuracy where labels exist', () => {
    const ok = canary(obs(variant('v1', { labelled: 400, correct: 380 }), variant('v2', { labelled: 400, correct: 372 })));
    expect(check(ok, 'accuracy').verdict).toBe('pass');
    const bad = canary(obs(variant('v1', { labelled: 400, correct: 380 }), variant('v2', { labelled: 400, correct: 300 })));
    expect(check(bad, 'accuracy').verdict).toBe('fail');
    expect(bad.verdict).toBe('fail');
  });

  it('tolerates maxAccuracyDrop: a small canary’s unlucky window of an equal model passes, a real drop fails', () => {
    // Seen in `make demo`: a 98% candidate answered 51 of 57 labelled rows at 5% while the stable answered 5107 of 5283.
    const unlucky = obs(variant('v1', { labelled: 5283, correct: 5107 }), variant('v2', { labelled: 57, correct: 51 }));
    expect(check(canary(unlucky), 'accuracy').verdict).toBe('pass');
    expect(check(canary(unlucky, { maxAccuracyDrop: 0 }), 'accuracy').verdict).toBe('fail');
    const worse = obs(variant('v1', { labelled: 5283, correct: 5107 }), variant('v2', { labelled: 600, correct: 510 }));
    const r = check(canary(worse), 'accuracy');
    expect(r.verdict).toBe('fail');
    expect(r.detail).toMatch(/^candidate is less accurate by more than 2\.00% beyond noise: candidate 85\.00%/);
    expect(r.threshold.value).toBeCloseTo(r.statistic.details.stableLower! - 0.02, 10);
  });
});

describe('shadow verdicts', () => {
  const shadow = (comparisons: number, agreed: number, failed = 0) => ({
    stableVersion: 'v1',
    shadowVersion: 'v2',
    comparisons,
    agreed,
    failed,
    dropped: 0,
    maxAbs: { buckets: [{ le: 1e-6, count: comparisons }], count: comparisons },
  });
  const run = (s: ReturnType<typeof shadow>, task: 'classification' | 'regression' = 'classification') =>
    analyzeWindow(obs(variant('v1'), variant('v2', { requests: 0, latency: hist([]) }), s), { model: 'digits', mode: 'shadow', thresholds: {}, task });

  it('passes when the Wilson lower bound reaches minAgreement', () => {
    const r = run(shadow(500, 500));
    expect(r.verdict).toBe('pass');
    expect(r.checks.map((c) => c.check)).toEqual(['traffic', 'shadow-error-rate', 'shadow-agreement']);
  });
  it('is inconclusive while the bound straddles minAgreement', () => {
    expect(run(shadow(100, 100)).verdict).toBe('inconclusive'); // lower bound 97.4% < 98%
  });
  it('fails when the upper bound is below minAgreement', () => {
    const r = run(shadow(500, 400));
    expect(r.verdict).toBe('fail');
    expect(r.checks.find((c) => c.check === 'shadow-agreement')!.statistic.details.upperBound).toBeLessThan(0.98);
  });
  it('fails a shadow that fails on mirrored requests', () => {
    const r = run(shadow(400, 400, 100));
    expect(r.checks.find((c) => c.check === 'shadow-error-rate')!.verdict).toBe('fail');
    expect(r.verdict).toBe('fail');
  });
  it('is inconclusive without enough mirrored requests, and skips agreement for regression', () => {
    expect(run(shadow(10, 10)).verdict).toBe('inconclusive');
    const reg = run(shadow(500, 0), 'regression');
    expect(reg.checks.find((c) => c.check === 'shadow-agreement')!.verdict).toBe('skipped');
    expect(reg.verdict).toBe('pass');
  });
  it('is inconclusive when the source saw no shadow at all', () => {
    const r = analyzeWindow(obs(variant('v1'), variant('v2')), { model: 'digits', mode: 'shadow', thresholds: {} });
    expect(r.verdict).toBe('inconclusive');
  });
});

describe('combineVerdicts', () => {
  it('lets too little traffic override a fail, and a fail override inconclusive', () => {
    expect(combineVerdicts([{ check: 'traffic', verdict: 'inconclusive' }, { check: 'latency', verdict: 'fail' }])).toBe('inconclusive');
    expect(combineVerdicts([{ check: 'traffic', verdict: 'pass' }, { check: 'latency', verdict: 'fail' }, { check: 'error-rate', verdict: 'inconclusive' }])).toBe('fail');
    expect(combineVerdicts([{ check: 'traffic', verdict: 'pass' }, { check: 'error-rate', verdict: 'inconclusive' }])).toBe('inconclusive');
    expect(combineVerdicts([{ check: 'traffic', verdict: 'pass' }, { check: 'accuracy', verdict: 'skipped' }])).toBe('pass');
  });
});
