/**
 * The lines `release start --wait`, `release status` and the demo print for steps and rollout
 * decisions: what a person reads in a terminal or a CI log.
 */
import { describe, expect, it } from 'vitest';
import { formatDecision, formatStep } from '../../cli/release/watch.ts';
import type { DecisionRecord } from '../../lib/rollout.ts';

describe('formatStep', () => {
  it('gives state, step, target/precision, time, verdict and summary in one line', () => {
    expect(formatStep({ step: 'parity', target: 'cpu', precision: 'int8', state: 'done', durationMs: 1234, verdict: 'pass', summary: 'top-1 99.1%' })).toBe(
      'done    parity cpu/int8 1.2s [pass]  top-1 99.1%',
    );
  });

  it('leaves out what a step does not have yet', () => {
    expect(formatStep({ step: 'resolve', state: 'running' })).toBe('running resolve');
  });
});

describe('formatDecision', () => {
  const base: DecisionRecord = { seq: 7, at: '2026-11-30T00:00:00Z', kind: 'analysis', phase: 'canary', step: 2, weight: 5, verdict: 'fail' };

  it('names the step and weight, the verdict and each check that ran (skipped ones left out)', () => {
    const detail = { checks: [{ check: 'error-rate', verdict: 'fail' }, { check: 'latency', verdict: 'pass' }, { check: 'accuracy', verdict: 'skipped' }] };
    expect(formatDecision({ ...base, detail })).toBe('#7 analysis step 2 (5%): fail [error-rate fail, latency pass]');
  });

  it('says who approved, as which client, and why', () => {
    const approval: DecisionRecord = { ...base, kind: 'approval', verdict: 'approved', by: 'alice', clientIdentity: '14981@vm', reason: 'dashboards look normal' };
    expect(formatDecision(approval)).toBe('#7 approval step 2 (5%): approved by alice (client 14981@vm) — dashboards look normal');
  });

  it('prints a decision that belongs to no step without one', () => {
    const rollback: DecisionRecord = { seq: 9, at: '2026-11-30T00:00:00Z', kind: 'rollback', phase: 'rolled-back', verdict: 'done', reason: 'shadow analysis failed' };
    expect(formatDecision(rollback)).toBe('#9 rollback: done — shadow analysis failed');
  });
});
