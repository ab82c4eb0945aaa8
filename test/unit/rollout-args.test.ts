import { describe, expect, it } from 'vitest';
import { claimedBy, parseApprovalArgs, parseRollbackArgs, parseTargetStepEvent } from '../../lib/rollout-args.ts';
import { PersonNameSchema } from '../../lib/person-name.ts';
import { MALFORMED } from '../fixtures/malformed-payloads.ts';


describe('rollout handler payloads', () => {
  it('refuses every malformed approval with an Error naming a field, never another exception', () => {
    let refused = 0;
    for (const payload of MALFORMED) {
      let error: unknown;
      try {
        parseApprovalArgs(payload);
      } catch (e) {
        error = e;
      }
      expect(error, JSON.stringify(payload)?.slice(0, 80)).toBeInstanceOf(Error);
      expect((error as Error).message).toMatch(/^approval arguments: (arguments|by|step|reason|extra)?/);
      expect((error as Error).message.length).toBeLessThan(600);
      refused++;
    }
    expect(refused).toBe(MALFORMED.length);
  });

  it('refuses every malformed rollback, and a rollback without a reason', () => {
    for (const payload of [...MALFORMED, { by: 'alice' }, { by: 'alice', reason: '' }]) {
      expect(() => parseRollbackArgs(payload), JSON.stringify(payload)?.slice(0, 80)).toThrow(/^rollback arguments: /);
    }
    expect(parseRollbackArgs({ by: 'bob', reason: 'p99 doubled' })).toEqual({ by: 'bob', reason: 'p99 doubled' });
  });

  it('accepts what people send', () => {
    expect(parseApprovalArgs({ by: 'alice' })).toEqual({ by: 'alice' });
    expect(parseApprovalArgs({ by: 'Zoë O’Neil', step: 2, reason: 'dashboards look normal' })).toEqual({ by: 'Zoë O’Neil', step: 2, reason: 'dashboards look normal' });
  });

  it('refuses malformed targetStep signals', () => {
    for (const payload of [...MALFORMED, { phase: 'begin' }, { phase: 'middle', step: 'build', target: 'cpu' }, { phase: 'end', step: 'x'.repeat(200), target: 'cpu' }]) {
      expect(() => parseTargetStepEvent(payload)).toThrow(/^targetStep signal: /);
    }
    expect(parseTargetStepEvent({ phase: 'begin', step: 'build', target: 'cpu', precision: 'fp32' })).toMatchObject({ phase: 'begin' });
  });

  it('names who a refused payload claims to be, bounded and printable, without throwing', () => {
    expect(claimedBy(null)).toBe('(unknown)');
    expect(claimedBy({ by: 7 })).toBe('(unknown)');
    expect(claimedBy({ by: 'x'.repeat(1000) })).toHaveLength(64);
    expect(claimedBy({ by: 'ali\u202Ece' })).toBe('ali?ce');
  });

  it('uses the same rule for manifest approvers', () => {
    expect(PersonNameSchema.safeParse(' ').success).toBe(false);
    expect(PersonNameSchema.safeParse('bob\u2066').success).toBe(false);
    expect(PersonNameSchema.safeParse('bob').success).toBe(true);
  });
});
