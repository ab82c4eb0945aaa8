/**
 * The shapes a TensorRT benchmark times: `benchmark.shapes`, or each input's min, opt, max and mid
 * (halfway between min and max) profile shape, as the toolkit's bench does for ONNX Runtime.
 *
 * @module
 */
import type { Manifest } from '../../lib/manifest.ts';

/** A full shape per input name. */
export type ShapeMap = Record<string, number[]>;

/** The benchmark's shapes, de-duplicated, in order. */
export function benchShapes(manifest: Pick<Manifest, 'inputs' | 'benchmark'>): ShapeMap[] {
  if (manifest.benchmark.shapes?.length) return manifest.benchmark.shapes.map((s) => ({ ...s }));
  const out: ShapeMap[] = [];
  for (const k of ['min', 'opt', 'max', 'mid'] as const) {
    const at = (d: (typeof manifest.inputs)[number]['dims'][number]) =>
      typeof d === 'number' ? d : k === 'mid' ? Math.floor((d.min + d.max) / 2) : d[k];
    const shape = Object.fromEntries(manifest.inputs.map((i) => [i.name, i.dims.map(at)]));
    if (!out.some((s) => JSON.stringify(s) === JSON.stringify(shape))) out.push(shape);
  }
  return out;
}

/** The batch of a shape: the first dim of the first input. */
export function batchOf(shape: ShapeMap, manifest: Pick<Manifest, 'inputs'>): number {
  return shape[manifest.inputs[0]!.name]?.[0] ?? 1;
}
