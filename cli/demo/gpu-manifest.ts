/**
 * The demo's manifest on a GPU host: the digits example's manifest plus a TensorRT target on the
 * host's architecture (fp32, fp16 and int8 from the same Q/DQ model as the CPU int8 engine), an
 * fp16 tolerance, and the fp16 engine as the package the rollout serves.
 *
 * @module
 */
import { parseDocument } from 'yaml';
import type { Precision } from '../../lib/manifest.ts';

/** The name of the TensorRT target the GPU demo adds. */
export const GPU_DEMO_TARGET = 'gpu';

/**
 * Returns `manifestYaml` with the TensorRT target for `arch` (e.g. `sm90`) added and served, its
 * comments kept. TensorRT benchmarks time each shape for at least one second.
 */
export function withGpuTarget(manifestYaml: string, arch: string, precisions: readonly Precision[] = ['fp32', 'fp16', 'int8']): string {
  if (!precisions.includes('fp16')) throw new Error('the GPU demo serves the fp16 engine: its precisions must include fp16');
  const doc = parseDocument(manifestYaml);
  doc.addIn(['targets'], doc.createNode({ name: GPU_DEMO_TARGET, backend: 'tensorrt', gpu: arch, precisions: [...precisions] }, { flow: true }));
  if (!doc.hasIn(['parity', 'tolerances', 'fp16'])) {
    doc.setIn(['parity', 'tolerances', 'fp16'], doc.createNode({ maxAbs: 5e-2, minTop1Agreement: 0.99 }, { flow: true }));
  }
  doc.setIn(['benchmark', 'minSeconds'], 1);
  if (doc.hasIn(['rollout'])) doc.setIn(['rollout', 'serve'], doc.createNode({ target: GPU_DEMO_TARGET, precision: 'fp16' }, { flow: true }));
  return doc.toString();
}
