import { describe, expect, it } from 'vitest';
import { histogramQuantile, histogramTotal, bucketRanges } from '../../../lib/analysis/histogram.ts';
import { mannWhitneyHistograms, mannWhitneySamples } from '../../../lib/analysis/mann-whitney.ts';
import { normalCdf, normalQuantile, normalSf } from '../../../lib/analysis/normal.ts';
import { newcombeDifference, wilsonInterval } from '../../../lib/analysis/proportions.ts';

// Reference values from SciPy 1.10 (scipy.stats.norm, mannwhitneyu(..., alternative='greater',
// method='asymptotic')) in the project's .venv.

describe('normal distribution', () => {
  it('matches SciPy', () => {
    expect(normalQuantile(0.95)).toBeCloseTo(1.6448536269514722, 8);
    expect(normalQuantile(0.001)).toBeCloseTo(-3.090232306167813, 8);
    expect(normalQuantile(0.999)).toBeCloseTo(3.090232306167813, 8);
    expect(normalSf(2.5) / 0.006209665325776132).toBeCloseTo(1, 6);
    expect(normalCdf(-1.2) / 0.11506967022170822).toBeCloseTo(1, 6);
    expect(normalCdf(0)).toBeCloseTo(0.5, 7);
  });
  it('rejects p outside (0, 1)', () => {
    expect(() => normalQuantile(1)).toThrow(RangeError);
  });
});

describe('Mann–Whitney U on samples', () => {
  it('matches SciPy with ties (one-sided, candidate larger)', () => {
    const c = [3.1, 2.2, 5.0, 4.4, 4.4, 6.1, 3.3, 7.0, 2.2];
    const s = [1.0, 2.2, 2.5, 3.1, 1.8, 2.9, 3.0, 2.2];
    const r = mannWhitneySamples(c, s);
    expect(r.u).toBe(61.5);
    expect(r.pValue / 0.007685621354683874).toBeCloseTo(1, 5);
    expect(r.commonLanguage).toBeCloseTo(61.5 / 72, 12);
    expect(r.rankBiserial).toBeCloseTo((2 * 61.5) / 72 - 1, 12);
  });
  it('gives no evidence for identical samples', () => {
    const x = [1, 2, 3, 4, 5, 6, 7, 8];
    const r = mannWhitneySamples(x, x);
    expect(r.u).toBe(32);
    expect(r.pValue).toBeCloseTo(0.5210631898891795, 6);
    expect(r.commonLanguage).toBe(0.5);
  });
  it('answers p = 1 for an empty sample or all ties', () => {
    expect(mannWhitneySamples([], [1, 2]).pValue).toBe(1);
    expect(mannWhitneySamples([2, 2], [2, 2, 2]).pValue).toBe(1);
  });
});

describe('Mann–Whitney U on histograms (buckets as tied ranks)', () => {
  // Per-bucket counts: candidate [10, 30, 50, 10], stable [40, 40, 15, 5] over le 0.005, 0.01, 0.025, +Inf.
  const candidate = { buckets: [{ le: 0.005, count: 10 }, { le: 0.01, count: 40 }, { le: 0.025, count: 90 }], count: 100 };
  const stable = { buckets: [{ le: 0.005, count: 40 }, { le: 0.01, count: 80 }, { le: 0.025, count: 95 }], count: 100 };

  it('equals the test on samples rounded up to their bucket bound (SciPy)', () => {
    const r = mannWhitneyHistograms(candidate, stable);
    expect(r.u).toBe(7350);
    expect(r.pValue / 8.267624338640742e-10).toBeCloseTo(1, 4);
    const rev = mannWhitneyHistograms(stable, candidate);
    expect(rev.u).toBe(2650);
    expect(rev.pValue).toBeCloseTo(0.9999999991862605, 9);
  });
  it('takes the bounds of the other histogram when one is empty', () => {
    const r = mannWhitneyHistograms({ buckets: [], count: 0 }, stable);
    expect(r.nCandidate).toBe(0);
    expect(r.pValue).toBe(1);
  });
  it('refuses histograms with different bounds', () => {
    expect(() => mannWhitneyHistograms(candidate, { buckets: [{ le: 1, count: 3 }], count: 3 })).toThrow(/different buckets/);
  });
});

describe('histogram quantiles', () => {
  const h = { buckets: [{ le: 0.005, count: 10 }, { le: 0.01, count: 40 }, { le: 0.025, count: 90 }], count: 100 };
  it('interpolates like histogram_quantile', () => {
    expect(histogramQuantile(h, 0.5)).toBeCloseTo(0.013, 12);
    expect(histogramQuantile(h, 0.05)).toBeCloseTo(0.0025, 12);
    // rank in the +Inf bucket: the largest finite bound
    expect(histogramQuantile(h, 0.95)).toBe(0.025);
    expect(histogramQuantile({ buckets: [], count: 0 }, 0.5)).toBeNaN();
  });
  it('turns cumulative counts into ranges, clamping decreases', () => {
    expect(bucketRanges({ buckets: [{ le: 1, count: 5 }, { le: 2, count: 4.9 }], count: 7 }).map((r) => r.count)).toEqual([5, 0, 2]);
    expect(histogramTotal(h)).toBe(100);
  });
});

describe('proportions', () => {
  it('Wilson interval: known values', () => {
    const w = wilsonInterval(5, 100, 1.959963984540054);
    expect(w.estimate).toBe(0.05);
    expect(w.lower).toBeCloseTo(0.021543, 5);
    expect(w.upper).toBeCloseTo(0.111752, 5);
    // zero events: upper = z² / (n + z²)
    const z = wilsonInterval(0, 100, 1.96);
    expect(z.lower).toBe(0);
    expect(z.upper).toBeCloseTo(3.8416 / 103.8416, 12);
    expect(wilsonInterval(0, 0, 1.96)).toEqual({ estimate: 0, lower: 0, upper: 1 });
  });
  it('Newcombe difference: the worked example of Newcombe (1998), 56/70 − 48/80', () => {
    const d = newcombeDifference(56, 70, 48, 80, 1.959963984540054);
    expect(d.estimate).toBeCloseTo(0.2, 12);
    expect(d.lower).toBeCloseTo(0.0524, 4);
    expect(d.upper).toBeCloseTo(0.3339, 4);
  });
});
