import { describe, expect, it } from 'vitest';
import { compatibilityLock, fleetVerdict } from '../../../activities/tensorrt/compat.ts';
import type { RuntimeFit } from '../../../lib/runtime-admin.ts';

const fit = (host: string, fits: boolean, reason: string | null = null): RuntimeFit => ({
  host,
  fits,
  reason,
  field: fits ? null : 'compatibility.tensorrt',
  tensorrt: fits ? '10.6.0' : '10.14.1',
  arch: 'sm90',
});

describe('compatibilityLock', () => {
  it('reads the lock from a build report, and none without TensorRT and GPU facts', () => {
    const lock = compatibilityLock({
      versions: { tensorrt: '10.16.1', cuda: '12.9', nvidiaDriver: '575.57.08' },
      gpu: { name: 'NVIDIA H100 PCIe', computeCapability: '9.0', arch: 'sm90' },
      hardwareCompatibility: 'none',
    });
    expect(lock).toEqual({ tensorrt: '10.16.1', cuda: '12.9', driver: '575.57.08', computeCapability: '9.0', arch: 'sm90', hardwareCompatibility: 'none' });
    expect(compatibilityLock({ versions: { tensorrt: '10.6.0' }, gpu: { computeCapability: '8.9' } })).toMatchObject({ arch: 'sm89', hardwareCompatibility: 'none', cuda: null });
    expect(compatibilityLock({ versions: {}, gpu: {} })).toBeNull();
  });
});

describe('fleetVerdict (the runtime applies the rule; the rollout sums the answers)', () => {
  it('passes when every host fits, naming them', () => {
    const r = fleetVerdict('tensorrt', [fit('a', true), fit('b', true)]);
    expect(r).toMatchObject({ ok: true, compatible: ['a', 'b'], incompatible: [] });
    expect(r.summary).toBe('2 host(s) fit the engine: a (sm90 with TensorRT 10.6.0), b (sm90 with TensorRT 10.6.0)');
  });

  it('fails when any host does not fit, keeping each host\'s own reason', () => {
    const r = fleetVerdict('tensorrt', [fit('ok', true), fit('old', false, 'engine was built for sm90 with TensorRT 10.6.0; this host is sm90 with TensorRT 10.14.1')]);
    expect(r.ok).toBe(false);
    expect(r.compatible).toEqual(['ok']);
    expect(r.incompatible).toEqual([{ host: 'old', reason: 'old: engine was built for sm90 with TensorRT 10.6.0; this host is sm90 with TensorRT 10.14.1' }]);
    expect(r.summary).toMatch(/^1 of 2 host\(s\) cannot load the engine: old: engine was built for sm90/);
  });

  it('refuses an empty fleet, and says a CPU package has no GPU lock', () => {
    expect(fleetVerdict('tensorrt', [])).toMatchObject({ ok: false, summary: 'no serving hosts reported' });
    expect(fleetVerdict('onnxruntime-cpu', [{ ...fit('cpu', true), tensorrt: null, arch: null }]).summary).toBe('onnxruntime-cpu package: no GPU lock; 1 host(s) fit');
  });
});
