import { describe, expect, it } from 'vitest';
import { checkFleetCompatibility, compatibilityLock, type FleetHost } from '../../../activities/tensorrt/compat.ts';

const lock = compatibilityLock({
  versions: { tensorrt: '10.16.1', cuda: '12.9', nvidiaDriver: '575.57.08' },
  gpu: { name: 'NVIDIA H100 PCIe', computeCapability: '9.0', arch: 'sm90' },
  hardwareCompatibility: 'none',
})!;
const host = (hostname: string, tensorrt: string | null, cc: string[]): FleetHost => ({
  host: { hostname },
  versions: { tensorrt },
  tensorrt: { version: tensorrt },
  cuda: { available: cc.length > 0, devices: cc.map((c, index) => ({ index, computeCapability: c, arch: `sm${c.replace('.', '')}` })) },
});

describe('checkFleetCompatibility', () => {
  it('reads the lock from a build report', () => {
    expect(lock).toEqual({ tensorrt: '10.16.1', cuda: '12.9', driver: '575.57.08', computeCapability: '9.0', arch: 'sm90', hardwareCompatibility: 'none' });
    expect(compatibilityLock({ versions: {}, gpu: {} })).toBeNull();
  });

  it('passes hosts with the same architecture and TensorRT release (any build number)', () => {
    const r = checkFleetCompatibility({ backend: 'tensorrt', compatibility: lock }, [host('a', '10.16.1.11', ['9.0']), host('b', '10.16.1', ['9.0', '9.0'])]);
    expect(r).toMatchObject({ ok: true, compatible: ['a', 'b'], incompatible: [] });
  });

  it('names both sides for another architecture, another TensorRT, or no GPU', () => {
    const r = checkFleetCompatibility({ backend: 'tensorrt', compatibility: lock }, [
      host('ada', '10.16.1', ['8.9']),
      host('old', '10.14.1', ['9.0']),
      host('cpu', null, []),
      host('ok', '10.16.1', ['9.0']),
    ]);
    expect(r.ok).toBe(false);
    expect(r.compatible).toEqual(['ok']);
    expect(r.incompatible.map((i) => i.reason)).toEqual([
      'engine built for sm90 with TensorRT 10.16.1; ada is sm89 with TensorRT 10.16.1: hardware compatibility none runs only on sm90',
      'engine built for sm90 with TensorRT 10.16.1; old is sm90 with TensorRT 10.14.1: engines load only under the TensorRT release that built them',
      'engine built for sm90 with TensorRT 10.16.1; cpu is no GPU with no TensorRT',
    ]);
    expect(r.summary).toMatch(/^3 of 4 host\(s\) cannot load the engine/);
  });

  it('lets ampere+ engines run on any GPU from compute capability 8.0', () => {
    const r = checkFleetCompatibility({ backend: 'tensorrt', compatibility: { ...lock, hardwareCompatibility: 'ampere+' } }, [host('ada', '10.16.1', ['8.9']), host('t4', '10.16.1', ['7.5'])]);
    expect(r.compatible).toEqual(['ada']);
    expect(r.incompatible.map((i) => i.host)).toEqual(['t4']);
  });

  it('needs no lock for CPU packages and refuses a tensorrt package without one', () => {
    expect(checkFleetCompatibility({ backend: 'onnxruntime-cpu' }, [host('cpu', null, [])]).ok).toBe(true);
    const r = checkFleetCompatibility({ backend: 'tensorrt' }, [host('a', '10.16.1', ['9.0'])]);
    expect(r.ok).toBe(false);
    expect(r.summary).toMatch(/no compatibility lock/);
    expect(checkFleetCompatibility({ backend: 'tensorrt', compatibility: lock }, []).ok).toBe(false);
  });
});
