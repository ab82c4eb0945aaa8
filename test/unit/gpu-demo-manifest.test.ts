import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GPU_DEMO_TARGET, withGpuTarget } from '../../cli/demo/gpu-manifest.ts';
import { parseManifest } from '../../lib/manifest.ts';
import { queueForTarget } from '../../lib/task-queues.ts';

const digits = readFileSync(new URL('../../examples/digits/modelship.yaml', import.meta.url), 'utf8');

describe('the GPU demo manifest', () => {
  it('adds a TensorRT target on the host architecture, serves its fp16 engine, and stays a valid manifest', () => {
    const text = withGpuTarget(digits, 'sm90');
    const m = parseManifest(text);
    const gpu = m.targets.find((t) => t.name === GPU_DEMO_TARGET)!;
    expect(gpu).toMatchObject({ backend: 'tensorrt', gpu: 'sm90', precisions: ['fp32', 'fp16', 'int8'] });
    expect(queueForTarget(gpu)).toBe('gpu-sm90');
    expect(m.targets.map((t) => t.name)).toEqual(['cpu', GPU_DEMO_TARGET]);
    expect(m.rollout?.serve).toEqual({ target: GPU_DEMO_TARGET, precision: 'fp16' });
    expect(m.parity.tolerances.fp16).toEqual({ maxAbs: 0.05, minTop1Agreement: 0.99 });
    expect(m.benchmark.minSeconds).toBe(1);
    // The example's comments survive: a person reading the demo repository sees the same file.
    expect(text).toContain('# Two good trainings of this small CNN agree on ~96%');
  });

  it('keeps a tolerance the manifest already has', () => {
    const withFp16 = digits.replace('    int8: { minTop1Agreement: 0.95, minTop5Agreement: 0.95 }\n', '    int8: { minTop1Agreement: 0.95, minTop5Agreement: 0.95 }\n    fp16: { maxAbs: 0.5 }\n');
    expect(parseManifest(withGpuTarget(withFp16, 'sm80')).parity.tolerances.fp16).toEqual({ maxAbs: 0.5 });
  });
});
