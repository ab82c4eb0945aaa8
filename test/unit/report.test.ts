import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { collectReportData, type ReportSources } from '../../activities/report/report-data.ts';
import { renderReportHtml } from '../../activities/report/render-html.ts';
import { renderReportMarkdown } from '../../activities/report/render-markdown.ts';
import { rolloutTimeline } from '../../activities/report/timeline.ts';
import type { ReleaseStatus } from '../../lib/release.ts';
import type { DecisionRecord } from '../../lib/rollout.ts';

const DIR = join(import.meta.dirname, '..', 'fixtures', 'report');
const read = (name: string) => JSON.parse(readFileSync(join(DIR, name), 'utf8')) as Record<string, unknown>;

/** The real v1.1.0 digits release's evidence (recorded from the e2e UI test), with a histogram. */
function parity() {
  const p = read('parity.json');
  (p.stats as Record<string, unknown>).histograms = { logits: { edges: [1e-9, 1e-6, 1e-3], counts: [3, 9000, 5170, 0] } };
  return p;
}

const decisions = read('decisions-v1.1.0.json') as unknown as DecisionRecord[];
const status: ReleaseStatus = {
  releaseId: 'release/digits/v1.1.0',
  model: 'digits',
  tag: 'v1.1.0',
  commit: '68452f10df380e5a9987460c970193e2eeba5920',
  stage: 'promoted',
  steps: [
    { step: 'resolve', state: 'done', verdict: 'pass', startedAt: '2026-12-01T02:10:31.620Z', endedAt: '2026-12-01T02:10:33.081Z', durationMs: 1461, summary: 'commit 68452f10df38; val_accuracy 0.976 >= 0.9' },
    { step: 'export', state: 'done', startedAt: '2026-12-01T02:10:33.081Z', endedAt: '2026-12-01T02:10:34.589Z', durationMs: 1508, summary: 'torchscript exporter, opset 17' },
    { step: 'parity', target: 'cpu', precision: 'fp32', state: 'done', verdict: 'pass', startedAt: '2026-12-01T02:10:35.2Z', endedAt: '2026-12-01T02:10:37.0Z', durationMs: 1800, summary: 'top-1 100.00%' },
  ],
  packages: [{ target: 'cpu', precision: 'fp32', uri: 'file:///store/packages/digits/v1.1.0/cpu-fp32', metadata: { uri: 'file:///m', sha256: '0'.repeat(64), bytes: 1 } }],
  rollout: { phase: 'promoted', outcome: 'promoted', weights: { candidate: 100, shadow: 0 }, stableVersion: 'v1.0.0', candidateVersion: 'v1.1.0', decisions },
};

const sources = (overrides: Partial<Record<string, unknown>> = {}): ReportSources => ({
  packageJson: async (_pkg, file) => (file in overrides ? overrides[file] : file === 'parity.json' ? parity() : read('bench-v1.1.0.json')),
  versionBench: async (model, version, target, precision) => (model === 'digits' && version === 'v1.0.0' && target === 'cpu' && precision === 'fp32' ? read('bench-v1.0.0.json') : undefined),
});

describe('the release report', () => {
  it("gathers each package's parity and bench, and the stable version's bench beside it", async () => {
    const data = await collectReportData(status, sources());
    expect(data.problems).toEqual([]);
    expect(data.engines).toHaveLength(1);
    expect(data.engines[0]!.stable?.version).toBe('v1.0.0');
    expect(data.engines[0]!.parity?.stats.histograms?.logits?.counts).toEqual([3, 9000, 5170, 0]);
  });

  it('names a file that is not what its schema says, and leaves it out', async () => {
    const data = await collectReportData(status, sources({ 'bench.json': { ...read('bench-v1.1.0.json'), shapes: 'fast' } }));
    expect(data.problems).toEqual([expect.stringMatching(/^cpu-fp32\/bench\.json: shapes: /)]);
    expect(data.engines[0]!.bench).toBeUndefined();
    expect(renderReportHtml(data)).toContain('No benchmark in this package.');
  });

  it('is one self-contained HTML file: inline SVG, no script, no external reference', async () => {
    const html = renderReportHtml(await collectReportData(status, sources()));
    expect(html).not.toMatch(/<script|\bsrc=|\bhref=|url\(|@import/i);
    expect(html.match(/<svg /g)).toHaveLength(5); // steps, histogram, latency, throughput, rollout
    for (const st of status.steps) expect(html).toContain(st.summary!.replace(/>/g, '&#62;'));
    // The histogram: one bar per bin.
    const histogram = html.slice(html.indexOf('Absolute error of logits'));
    expect(histogram.slice(0, histogram.indexOf('</svg>')).match(/<rect x="[\d.]+" y="[\d.]+" width/g)).toHaveLength(4 + 1); // 4 bins + the legend's swatch
    // Latency: candidate and stable for every batch both measured.
    expect(html).toContain('stable v1.0.0');
    expect(html).toMatch(/candidate fp32 batch 32: min [\d.e-]+, p50/);
    // The rollout: a marker per decision, the approval with who and why, the analysis statistics.
    const rollout = html.slice(html.indexOf('<h2>Rollout'));
    expect(rollout.match(/<circle /g)).toHaveLength(decisions.length);
    expect(rollout).toContain('looked fine in the Web UI');
    expect(rollout).toMatch(/error-rate: error rate 0 vs maxErrorRate 0\.01 → pass/);
  });

  it('escapes what people and packages wrote', async () => {
    const hostile = decisions.map((d) => (d.kind === 'approval' ? { ...d, by: '<b>eve</b>', reason: '<img src=x onerror=alert(1)>' } : d));
    const html = renderReportHtml(await collectReportData({ ...status, tag: 'v1"><script>', rollout: { ...status.rollout!, decisions: hostile } }, sources()));
    expect(html).not.toContain('<img');
    expect(html).not.toContain('<script>');
    expect(html).toContain('&#60;img src=x onerror=alert(1)&#62;');
  });

  it('weights over time follow the decisions: approvals raise them, promotion ends at 100', () => {
    const weights = rolloutTimeline(decisions).map((e) => `${e.record.kind}:${e.weight}`);
    expect(weights[0]).toBe('fleet-check:0');
    expect(weights).toContain('approval:50');
    expect(weights.at(-1)).toBe('promotion:100');
    const rolledBack = rolloutTimeline([...decisions.slice(0, 5), { ...decisions[4]!, seq: 99, kind: 'rollback', verdict: 'done', reason: 'manual rollback by bob: p99' }]);
    expect(rolledBack.at(-1)!.weight).toBe(0);
  });

  it('has a Markdown summary for pull requests', async () => {
    const md = renderReportMarkdown(await collectReportData({ ...status, steps: [{ ...status.steps[0]!, summary: 'a | b' }] }, sources()));
    expect(md).toMatch(/^## digits v1\.1\.0: promoted/);
    expect(md).toContain('a \\| b');
    expect(md).toMatch(/\| cpu-fp32 \| pass \| [\d.e-]+ \| 1417\/1417 \| [\d.e]+\/s at batch \d+ \|/);
    expect(md).toContain('approval approved (step 1, 50%) by alice: looked fine in the Web UI');
    expect(md).not.toContain('continued as new');
  });

  it('says when a rollout continued as new and which analysis records only the store has', async () => {
    const long = { ...status, rollout: { ...status.rollout!, runs: 4, analysesNotCarried: 1234 } };
    const expected = "The rollout continued as new 3 time(s) (4 runs); its 1234 oldest analysis records are not listed here (each is in the package's decisions/ folder).";
    expect(renderReportMarkdown(await collectReportData(long, sources()))).toContain(expected);
    expect(renderReportHtml(await collectReportData(long, sources()))).toContain(expected.replace("'", '&#39;'));
  });
});
