/**
 * The engine's file name in runs and packages, by backend and precision.
 *
 * @module
 */
import type { Precision, TargetSpec } from '../lib/manifest.ts';

/** `engine.<precision>.plan` for TensorRT, `engine.<precision>.onnx` for ONNX Runtime. */
export function engineFileName(backend: TargetSpec['backend'], precision: Precision): string {
  return backend === 'tensorrt' ? `engine.${precision}.plan` : `engine.${precision}.onnx`;
}
