import { describe, expect, it } from 'vitest';
import { GpuSlotPool } from '../../../activities/tensorrt/gpu-slots.ts';

describe('GpuSlotPool', () => {
  it('hands out each GPU once and makes the next job wait for a release', async () => {
    const pool = new GpuSlotPool([0, 1]);
    const a = await pool.acquire();
    const b = await pool.acquire();
    expect([a.index, b.index]).toEqual([0, 1]);
    expect(pool.available).toBe(0);
    let third: number | undefined;
    const waiting = pool.acquire().then((l) => (third = l.index));
    await Promise.resolve();
    expect(third).toBeUndefined();
    expect(pool.waiting).toBe(1);
    b.release();
    await waiting;
    expect(third).toBe(1);
    b.release(); // a second release changes nothing
    expect(pool.available).toBe(0);
  });

  it('gives the GPU back however the job ends, and keeps one job per GPU under load', async () => {
    const pool = new GpuSlotPool([3, 5]);
    const inUse = new Set<number>();
    let maxConcurrent = 0;
    const job = (fail: boolean) =>
      pool.withGpu(async (index) => {
        expect(inUse.has(index)).toBe(false);
        inUse.add(index);
        maxConcurrent = Math.max(maxConcurrent, inUse.size);
        await new Promise((r) => setTimeout(r, 5));
        inUse.delete(index);
        if (fail) throw new Error('boom');
        return index;
      });
    const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => job(i % 3 === 0)));
    expect(maxConcurrent).toBe(2);
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(3);
    expect(pool.available).toBe(2);
  });

  it('stops waiting when the job is cancelled', async () => {
    const pool = new GpuSlotPool([0]);
    const held = await pool.acquire();
    const ctl = new AbortController();
    const waiting = pool.acquire(ctl.signal);
    ctl.abort(new Error('cancelled'));
    await expect(waiting).rejects.toThrow('cancelled');
    expect(pool.waiting).toBe(0);
    held.release();
    expect(pool.available).toBe(1);
  });

  it('refuses an empty or duplicated set of GPUs', () => {
    expect(() => new GpuSlotPool([])).toThrow(/at least one GPU/);
    expect(() => new GpuSlotPool([0, 0])).toThrow(/duplicate/);
  });
});
