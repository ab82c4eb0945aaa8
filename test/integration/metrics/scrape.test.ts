/**
 * The direct-scrape fallback (no Prometheus): analyzeCanary scrapes a real serving runtime's
 * /metrics at the window's start and end while traffic flows, and diffs the counters.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAnalysisActivities } from '../../../activities/metrics/analysis-activities.ts';
import { createScrapeSource } from '../../../activities/metrics/scrape-source.ts';
import { AnalysisResultSchema } from '../../../lib/analysis/index.ts';
import { buildPackages, sendTraffic, startRuntime, type Packages, type Runtime } from './serve-runtime.ts';

let dir: string;
let packages: Packages;
let runtime: Runtime;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'modelship-scrape-'));
  packages = await buildPackages(join(dir, 'packages'));
  runtime = await startRuntime(dir, packages['v1.0.0']);
});

afterAll(async () => {
  await runtime?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function scrapePhase(version: keyof Packages) {
  await runtime.admin('load', { variant: 'candidate', package: packages[version] });
  await runtime.admin('weights', { candidate: 50 });
  const { analyzeCanary } = createAnalysisActivities({ source: createScrapeSource({ metricsUrl: `${runtime.url}/metrics` }) });
  const input = { model: 'digits', stableVersion: 'v1.0.0', candidateVersion: version, windowSeconds: 4, thresholds: {}, mode: 'canary' as const };
  const started = Date.now();
  const analysis = analyzeCanary(input); // scrapes now, waits 4 s, scrapes again
  await new Promise((r) => setTimeout(r, 300));
  const traffic = await sendTraffic(runtime.url, 300);
  const result = await analysis;
  expect(Date.now() - started).toBeGreaterThanOrEqual(4000);
  expect(AnalysisResultSchema.parse(result)).toEqual(result);
  return { traffic, result, analyzeCanary, input };
}

describe('analyzeCanary on the scrape fallback', () => {
  it('passes an equal candidate, counting exactly what was sent', async () => {
    const { traffic, result, analyzeCanary, input } = await scrapePhase('v2.0.0');
    expect(result.source).toBe('scrape');
    expect(result.verdict, result.summary).toBe('pass');
    const t = result.checks.find((c) => c.check === 'traffic')!;
    expect(t.query).toBe('scrape');
    expect(t.samples).toEqual({ stable: traffic.byVariant.stable, candidate: traffic.byVariant.candidate });
    // A later analysis over a longer window starts from the earlier snapshot: no second wait.
    const before = Date.now();
    const again = await analyzeCanary({ ...input, windowSeconds: 60 });
    expect(Date.now() - before).toBeLessThan(2000);
    expect(again.window.start).toBe(result.window.start);
  });

  it('fails a candidate that errors', async () => {
    const { traffic, result } = await scrapePhase('flaky-1');
    expect(traffic.byStatus[500]).toBeGreaterThan(10);
    expect(result.verdict, result.summary).toBe('fail');
    expect(result.checks.find((c) => c.check === 'error-rate')!.statistic.details.failures).toBe(traffic.byStatus[500]);
  });

  it('answers a retryable Infrastructure failure when the runtime cannot be scraped', async () => {
    const { analyzeCanary } = createAnalysisActivities({ source: createScrapeSource({ metricsUrl: 'http://127.0.0.1:1/metrics', timeoutMs: 2000 }) });
    await expect(
      analyzeCanary({ model: 'digits', stableVersion: 'a', candidateVersion: 'b', windowSeconds: 1, thresholds: {}, mode: 'canary' }),
    ).rejects.toMatchObject({ type: 'Infrastructure', nonRetryable: false });
    await expect(analyzeCanary({ model: '', stableVersion: 'a', candidateVersion: 'b', windowSeconds: 0, thresholds: {}, mode: 'canary' })).rejects.toMatchObject({
      type: 'BadInput',
      message: expect.stringMatching(/model: .*windowSeconds: /),
    });
  });
});
