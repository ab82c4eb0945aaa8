/**
 * Optimization-profile shapes for trtexec, derived from the manifest's inputs: each dynamic
 * dimension `{ name, min, opt, max }` gives the min/opt/max sizes; fixed sizes repeat.
 *
 * @module
 */
import type { InputSpec } from '../manifest.ts';

/** The three shapes of one input's optimization profile. */
export interface InputProfile {
  name: string;
  min: number[];
  opt: number[];
  max: number[];
}

/** Whether an input has at least one dynamic dimension. */
export function isDynamicInput(input: Pick<InputSpec, 'dims'>): boolean {
  return input.dims.some((d) => typeof d !== 'number');
}

/** The min/opt/max profile of one input (for a fixed input all three are equal). */
export function inputProfile(input: Pick<InputSpec, 'name' | 'dims'>): InputProfile {
  const pick = (k: 'min' | 'opt' | 'max'): number[] => input.dims.map((d) => (typeof d === 'number' ? d : d[k]));
  return { name: input.name, min: pick('min'), opt: pick('opt'), max: pick('max') };
}

/**
 * Quotes a tensor name for a trtexec shape spec when it holds `:` or `,` (trtexec accepts names
 * wrapped in single quotes, e.g. `'input:0':1x3x224x224`). Arguments are passed without a shell,
 * so the quotes reach trtexec literally.
 */
export function quoteTensorName(name: string): string {
  return /[:,]/.test(name) ? `'${name}'` : name;
}

/** `1x3x224x224`. */
export function formatDims(dims: readonly number[]): string {
  return dims.join('x');
}

/** `a:1x3x224x224,b:1x16` for a list of named shapes. */
export function formatShapeSpec(shapes: ReadonlyArray<{ name: string; dims: readonly number[] }>): string {
  return shapes.map((s) => `${quoteTensorName(s.name)}:${formatDims(s.dims)}`).join(',');
}

/**
 * The `--minShapes/--optShapes/--maxShapes` arguments for the manifest's inputs. Inputs without
 * dynamic dimensions are left out (the ONNX already fixes them); with no dynamic input at all the
 * result is empty.
 */
export function profileShapeArgs(inputs: ReadonlyArray<Pick<InputSpec, 'name' | 'dims'>>): string[] {
  const dynamic = inputs.filter(isDynamicInput).map(inputProfile);
  if (dynamic.length === 0) return [];
  return [
    `--minShapes=${formatShapeSpec(dynamic.map((p) => ({ name: p.name, dims: p.min })))}`,
    `--optShapes=${formatShapeSpec(dynamic.map((p) => ({ name: p.name, dims: p.opt })))}`,
    `--maxShapes=${formatShapeSpec(dynamic.map((p) => ({ name: p.name, dims: p.max })))}`,
  ];
}
