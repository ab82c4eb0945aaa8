/**
 * The serving runtime's latency buckets against the canary's latency check: the median the check
 * estimates from buckets must measure a shift at the scale the engines serve at. With the old
 * 1-2.5-5 buckets, a GPU candidate 20% slower around 1 ms read as more than +50% (its median crossed
 * from the (0.5, 1] ms bucket into (1, 2.5]), and a good candidate was rolled back on the H200.
 */
import { execaSync } from 'execa';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../../activities/toolkit.ts';
import { analyzeWindow } from '../../../lib/analysis/analyze.ts';
import type { VariantCounts, WindowObservation } from '../../../lib/analysis/schemas.ts';

/** The runtime's own bucket edges, read from the toolkit (not copied here). */
const RUNTIME_EDGES: number[] = JSON.parse(
  execaSync(join(PROJECT_ROOT, '.venv', 'bin', 'python'), ['-c', 'import json; from modelship_toolkit.serve.metrics import LATENCY_BUCKETS; print(json.dumps(LATENCY_BUCKETS))'], {
    cwd: join(PROJECT_ROOT, 'toolkit'),
  }).stdout,
);
const OLD_EDGES = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Seeded log-normal latencies (seconds) around `median`. */
function latencies(seed: number, n: number, median: number, sigma = 0.35): number[] {
  let s = seed >>> 0;
  const uniform = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 0.5) / 2 ** 32;
  return Array.from({ length: n }, () => median * Math.exp(sigma * Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform())));
}

function variant(version: string, samples: number[], edges: number[]): VariantCounts {
  const buckets = edges.map((le) => ({ le, count: samples.filter((x) => x <= le).length }));
  return { version, requests: samples.length, errors: 0, latency: { buckets, count: samples.length }, labelled: 0, correct: 0 };
}

function latencyCheck(stable: number[], candidate: number[], edges: number[], thresholds: Record<string, number> = {}) {
  const o: WindowObservation = {
    source: 'prometheus',
    window: { start: '2026-12-01T00:00:00.000Z', end: '2026-12-01T00:00:05.000Z' },
    queries: { requests: 'q', latency: 'q', errors: 'q', accuracy: 'q' },
    stable: variant('v1.0.0', stable, edges),
    candidate: variant('v1.1.0', candidate, edges),
  };
  const r = analyzeWindow(o, { model: 'digits', mode: 'canary', thresholds: { maxLatencyIncrease: 0.5, ...thresholds } });
  return r.checks.find((c) => c.check === 'latency')!;
}

describe('latency buckets of the serving runtime', () => {
  it('are the R10 series: sorted, from 0.1 ms to 10 s, no bucket more than 28% above the last', () => {
    expect(RUNTIME_EDGES[0]).toBe(0.0001);
    expect(RUNTIME_EDGES.at(-1)).toBe(10);
    for (let i = 1; i < RUNTIME_EDGES.length; i++) expect(RUNTIME_EDGES[i]! / RUNTIME_EDGES[i - 1]!).toBeLessThanOrEqual(1.28);
  });

  it('measure a 20% slower candidate around 1 ms as about 20% (the old buckets read it as more than +50% and failed it)', () => {
    const stable = latencies(1, 400, 0.0009);
    const candidate = latencies(2, 400, 0.0009 * 1.2);
    const now = latencyCheck(stable, candidate, RUNTIME_EDGES);
    expect(now.verdict).toBe('pass');
    expect(now.statistic.value).toBeGreaterThan(0.05);
    expect(now.statistic.value).toBeLessThan(0.35);
    const before = latencyCheck(stable, candidate, OLD_EDGES);
    expect(before.statistic.value).toBeGreaterThan(0.5);
    expect(before.verdict).toBe('fail');
  });

  it('still fail a candidate twice as slow', () => {
    const r = latencyCheck(latencies(3, 400, 0.00095), latencies(4, 400, 0.0019), RUNTIME_EDGES);
    expect(r.verdict).toBe('fail');
    expect(r.statistic.value).toBeGreaterThan(0.7);
  });
});

describe('the absolute floor of the latency check (minLatencyIncreaseMs)', () => {
  it('passes a large relative shift of a sub-millisecond engine that is under the floor, and fails it above', () => {
    // 0.45 ms → 0.58 ms: +29%, significant with 2000 requests each, but 0.13 ms.
    const stable = latencies(5, 2000, 0.00045, 0.2);
    const candidate = latencies(6, 2000, 0.00058, 0.2);
    const underFloor = latencyCheck(stable, candidate, RUNTIME_EDGES, { maxLatencyIncrease: 0.2 });
    expect(underFloor.statistic.value).toBeGreaterThan(0.2);
    expect(underFloor.statistic.details.pValue).toBeLessThan(0.001);
    expect(underFloor.verdict).toBe('pass');
    expect(underFloor.detail).toMatch(/slightly slower .* within the allowed 20\.00% or 0\.25 ms/);
    const noFloor = latencyCheck(stable, candidate, RUNTIME_EDGES, { maxLatencyIncrease: 0.2, minLatencyIncreaseMs: 0 });
    expect(noFloor.verdict).toBe('fail');
    expect(noFloor.detail).toMatch(/above the allowed 20\.00% and 0 ms/);
  });
});
