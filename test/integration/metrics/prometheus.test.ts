/**
 * Canary and shadow analysis against a real Prometheus (Debian's /usr/bin/prometheus, scraping
 * every second) that scrapes a real serving runtime on loopback.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnalysisResultSchema, type AnalysisResult } from '../../../lib/analysis/index.ts';
import { createAnalysisActivities } from '../../../activities/metrics/analysis-activities.ts';
import { startPrometheus, type RunningPrometheus } from '../../../workers/prometheus.ts';
import { createPrometheusSource } from '../../../activities/metrics/prometheus-source.ts';
import { buildPackages, sendTraffic, sleep, startRuntime, type Packages, type Runtime, type TrafficReport } from './serve-runtime.ts';

let dir: string;
let packages: Packages;
let runtime: Runtime;
let prometheus: RunningPrometheus;
let analyzeCanary: ReturnType<typeof createAnalysisActivities>['analyzeCanary'];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'modelship-metrics-'));
  packages = await buildPackages(join(dir, 'packages'));
  runtime = await startRuntime(dir, packages['v1.0.0']);
  prometheus = await startPrometheus({ targets: [runtime.target], dataDir: join(dir, 'prometheus'), scrapeInterval: '1s' });
  analyzeCanary = createAnalysisActivities({ source: createPrometheusSource({ url: prometheus.url }) }).analyzeCanary;
});

afterAll(async () => {
  await prometheus?.stop();
  await runtime?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/**
 * Loads `version` as the candidate at 50%, sends `requests` (the candidate's series are born inside
 * the window), lets Prometheus scrape the last of them, then analyses the window.
 */
async function canaryPhase(version: keyof Packages, requests: number): Promise<{ traffic: TrafficReport; result: AnalysisResult }> {
  await runtime.admin('load', { variant: 'candidate', package: packages[version] });
  await runtime.admin('weights', { candidate: 50 });
  const start = Date.now();
  const traffic = await sendTraffic(runtime.url, requests);
  await sleep(2500);
  const result = await analyzeCanary({
    model: 'digits',
    stableVersion: 'v1.0.0',
    candidateVersion: version,
    windowSeconds: Math.ceil((Date.now() - start) / 1000) + 1,
    thresholds: MANIFEST_ANALYSIS,
    mode: 'canary',
  });
  expect(AnalysisResultSchema.parse(result)).toEqual(result);
  return { traffic, result };
}

/** The manifest's `rollout.analysis` section as the workflow passes it (its `interval` is ignored). */
const MANIFEST_ANALYSIS = { interval: '30s', maxErrorRate: 0.01, maxErrorRateIncrease: 0.005, maxLatencyIncrease: 0.2, minAgreement: 0.98, minRequests: 50 };

const check = (r: AnalysisResult, name: string) => r.checks.find((c) => c.check === name)!;

describe('analyzeCanary on Prometheus', () => {
  it('passes a candidate equal to the stable', async () => {
    const { traffic, result } = await canaryPhase('v2.0.0', 400);
    expect(traffic.byStatus[200]).toBe(400);
    expect(result.source).toBe('prometheus');
    expect(result.verdict, result.summary).toBe('pass');
    const t = check(result, 'traffic');
    expect(t.samples.candidate).toBeLessThan((traffic.byVariant.candidate ?? 0) * 1.3 + 5);
    expect(t.query).toMatch(/^sum by \(version, code\) \(\(increase\(modelship_requests_total\{model="digits",version=~"v1\\\\.0\\\\.0\|v2\\\\.0\\\\.0"\}\[\d+s\]\) and /);
    // Series born in the window count from 0: what the runtime counted, not less.
    expect(t.samples.candidate).toBeGreaterThanOrEqual((traffic.byVariant.candidate ?? 0) * 0.95);
    expect(check(result, 'accuracy').verdict).toBe('pass'); // labelled traffic: compared, equal
  });

  it('fails a slower candidate on latency', async () => {
    const { result } = await canaryPhase('slow-1', 400);
    expect(result.verdict, result.summary).toBe('fail');
    const lat = check(result, 'latency');
    expect(lat.verdict).toBe('fail');
    expect(lat.statistic.details.pValue).toBeLessThan(0.001);
    expect(lat.statistic.details.candidateMedian).toBeGreaterThan(0.02);
    expect(lat.query).toContain('modelship_request_duration_seconds_bucket');
  });

  it('fails a candidate that errors', async () => {
    const { traffic, result } = await canaryPhase('flaky-1', 400);
    expect(traffic.byStatus[500]).toBeGreaterThan(20);
    expect(result.verdict, result.summary).toBe('fail');
    expect(check(result, 'error-rate').verdict).toBe('fail');
    expect(check(result, 'error-rate-increase').verdict).toBe('fail');
    expect(check(result, 'error-rate').statistic.details.failures).toBeGreaterThanOrEqual(traffic.byStatus[500]! * 0.95);
  });

  it('is inconclusive with too little traffic', async () => {
    const { result } = await canaryPhase('v2.1.0', 30);
    expect(result.verdict, result.summary).toBe('inconclusive');
    expect(check(result, 'traffic').verdict).toBe('inconclusive');
  });

  it('judges a shadow by its agreement with the stable', async () => {
    const shadowPhase = async (version: keyof Packages) => {
      await runtime.admin('rollback', {});
      await runtime.admin('load', { variant: 'shadow', package: packages[version] });
      await runtime.admin('weights', { candidate: 0, shadow: 100 });
      const start = Date.now();
      await sendTraffic(runtime.url, 300);
      await sleep(2500);
      return analyzeCanary({
        model: 'digits',
        stableVersion: 'v1.0.0',
        candidateVersion: version,
        windowSeconds: Math.ceil((Date.now() - start) / 1000) + 1,
        thresholds: {},
        mode: 'shadow',
      });
    };
    const same = await shadowPhase('v2.0.0');
    expect(same.verdict, same.summary).toBe('pass');
    expect(check(same, 'shadow-agreement').samples.candidate).toBeGreaterThan(200);
    expect(check(same, 'shadow-agreement').query).toContain('modelship_shadow_agreement_total');
    const other = await shadowPhase('v3.0.0');
    expect(other.verdict, other.summary).toBe('fail');
    expect(check(other, 'shadow-agreement').verdict).toBe('fail');
  });
});
