/**
 * What a rollout carries into its next run when it continues as new: every record that is not an
 * analysis, the newest analyses (older ones compacted), a count of those left to the artifact
 * store — so a bake of days carries a bounded input.
 */
import { describe, expect, it } from 'vitest';
import type { DecisionRecord, RolloutStatus } from '../../lib/rollout.ts';
import { carriedStatus, compactAnalysis, FULL_ANALYSES_CARRIED, MAX_CARRIED_ANALYSES } from '../../workflows/rollout/continue-as-new.ts';

function analysis(seq: number): DecisionRecord {
  return {
    seq,
    at: new Date(1_700_000_000_000 + seq * 60_000).toISOString(),
    kind: 'analysis',
    phase: 'canary',
    step: 1,
    weight: 5,
    verdict: 'pass',
    uri: `file:///store/decisions/${seq}-analysis.json`,
    detail: {
      verdict: 'pass',
      summary: 'all checks pass',
      window: { from: 'a', to: 'b' },
      thresholds: { maxErrorRate: 0.01 },
      checks: [
        {
          check: 'latency',
          query: 'histogram_quantile(0.5, sum by (le) (rate(modelship_request_seconds_bucket[5m])))'.repeat(4),
          samples: { stable: 1000, candidate: 50 },
          statistic: { name: 'median increase', value: 0.04, details: { p: 0.3, stable: 0.5, candidate: 0.52 } },
          threshold: { name: 'maxLatencyIncrease', value: 0.2, rule: 'fail when above' },
          verdict: 'pass',
          detail: 'median 0.52 ms vs 0.50 ms',
        },
      ],
    },
  };
}

function statusWith(decisions: DecisionRecord[], extra: Partial<RolloutStatus> = {}): RolloutStatus {
  return { phase: 'canary', weights: { candidate: 5, shadow: 0 }, candidateVersion: 'v2', stableVersion: 'v1', decisions, ...extra };
}

const fleet: DecisionRecord = { seq: 1, at: '2026-01-01T00:00:00Z', kind: 'fleet-check', phase: 'checking', verdict: 'pass', detail: { big: 'x'.repeat(1000) } };
const approval: DecisionRecord = { seq: 2, at: '2026-01-01T00:01:00Z', kind: 'approval', phase: 'awaiting-approval', verdict: 'approved', by: 'alice', step: 1, weight: 5 };

describe('carriedStatus', () => {
  it('carries every record of a short rollout, compacting all analyses but the newest, and counts the run', () => {
    const decisions = [fleet, approval, ...Array.from({ length: 10 }, (_, i) => analysis(i + 3))];
    const carried = carriedStatus(statusWith(decisions));
    expect(carried.runs).toBe(2);
    expect(carried.analysesNotCarried).toBeUndefined();
    expect(carried.decisions.map((d) => d.seq)).toEqual(decisions.map((d) => d.seq));
    expect(carried.decisions[0]).toEqual(fleet);
    expect(carried.decisions[1]).toEqual(approval);
    const compacted = carried.decisions.filter((d) => (d.detail as { compacted?: boolean } | undefined)?.compacted);
    expect(compacted).toHaveLength(10 - FULL_ANALYSES_CARRIED);
    expect(carried.decisions.slice(-FULL_ANALYSES_CARRIED)).toEqual(decisions.slice(-FULL_ANALYSES_CARRIED));
    // The input it came from is left as it was (the running workflow's status is still read).
    expect((decisions[2]!.detail as { window?: unknown }).window).toBeDefined();
  });

  it('bounds what a bake of days carries: the newest analyses, the rest counted and left in the store', () => {
    const decisions = [fleet, approval, ...Array.from({ length: 3000 }, (_, i) => analysis(i + 3))];
    const first = carriedStatus(statusWith(decisions, { runs: 7, analysesNotCarried: 100 }));
    expect(first.runs).toBe(8);
    expect(first.analysesNotCarried).toBe(100 + 3000 - MAX_CARRIED_ANALYSES);
    expect(first.decisions.filter((d) => d.kind === 'analysis')).toHaveLength(MAX_CARRIED_ANALYSES);
    expect(first.decisions.slice(0, 2)).toEqual([fleet, approval]);
    expect(first.decisions.at(-1)!.seq).toBe(3002);
    // Small enough for a workflow input whatever the bake's length (Temporal warns at 512 KiB).
    const full = JSON.stringify(statusWith(decisions)).length;
    const carriedSize = JSON.stringify(first).length;
    expect(carriedSize).toBeLessThan(256 * 1024);
    expect(carriedSize).toBeLessThan(full / 10);
  });
});

describe('compactAnalysis', () => {
  it('keeps the summary and each check’s statistic against its threshold, and where the whole record is kept', () => {
    const c = compactAnalysis(analysis(5));
    expect(c.uri).toBe('file:///store/decisions/5-analysis.json');
    expect(c.detail).toEqual({
      verdict: 'pass',
      summary: 'all checks pass',
      compacted: true,
      checks: [{ check: 'latency', verdict: 'pass', statistic: { name: 'median increase', value: 0.04 }, threshold: { name: 'maxLatencyIncrease', value: 0.2 } }],
    });
  });

  it('leaves a record without an analysis result as it is', () => {
    const bare: DecisionRecord = { ...analysis(6), detail: undefined };
    expect(compactAnalysis(bare)).toBe(bare);
  });
});
