/**
 * Failure classes for trtexec runs: what went wrong, whether a retry can help, and what to do.
 * The starting point is the seed's troubleshooting table (unsupported operator, profile/shape
 * mismatch, OOM), plus what the recorded failures show (builder creation, Myelin crash).
 *
 * @module
 */
import { ErrorType } from '../errors.ts';
import type { TrtexecLog } from './log-schema.ts';

/** Why a trtexec run failed. */
export const TrtexecFailureClass = {
  /** An ONNX op has no importer and no plugin was found. Not retryable. */
  UnsupportedOperator: 'unsupported-operator',
  /** Out of GPU/host memory while building or running. Retry with less workspace / a smaller profile. */
  OutOfMemory: 'out-of-memory',
  /** The builder could not be created (kernel library, driver/GPU mismatch). Retry on another worker. */
  BuilderCreation: 'builder-creation',
  /** Input shapes do not fit the ONNX dims or the optimization profile. Not retryable. */
  ShapeMismatch: 'shape-mismatch',
  /** trtexec rejected its arguments (a flag this version does not have). Not retryable. */
  InvalidArguments: 'invalid-arguments',
  /** The parser refused the Q/DQ (INT8) form: UINT8 zero points, quantized biases. Not retryable. */
  UnsupportedQuantization: 'unsupported-quantization',
  /** The ONNX could not be parsed for another reason. Not retryable. */
  OnnxParse: 'onnx-parse',
  /** The process ended without `&&&& PASSED/FAILED` (assert, signal, kill). Infrastructure; retryable. */
  Crash: 'crash',
  /** `&&&& FAILED` with no recognised cause. */
  Unknown: 'unknown',
} as const;
/** One of {@link TrtexecFailureClass}. */
export type TrtexecFailureClass = (typeof TrtexecFailureClass)[keyof typeof TrtexecFailureClass];

/** The verdict on a failed run. */
export interface TrtexecFailure {
  class: TrtexecFailureClass;
  retryable: boolean;
  /** The `ApplicationFailure` type an activity should raise. */
  errorType: ErrorType;
  advice: string;
  /** The log line that decided the class (or the last line, for a crash). */
  evidence: string | null;
}

interface Rule {
  cls: TrtexecFailureClass;
  patterns: RegExp[];
  retryable: boolean;
  errorType: ErrorType;
  advice: string;
}

/** Checked in order; the first rule with a matching line wins. */
const RULES: readonly Rule[] = [
  {
    cls: TrtexecFailureClass.UnsupportedOperator,
    patterns: [
      /Plugin not found/i,
      /No importer registered for op/i,
      /getPluginCreator could not find plugin/i,
      /Could not find plugin/i,
      /unsupported (?:onnx )?(?:op|operator|node)/i,
      /checkFallbackPluginImporter/,
    ],
    retryable: false,
    errorType: ErrorType.BadInput,
    advice:
      'An ONNX operator has no TensorRT importer and no plugin provides it. Replace it in the model with supported ops ' +
      '(explicit interpolate mode/align_corners, NMS in post-processing, a newer opset/exporter), or build with a plugin library that registers it.',
  },
  {
    cls: TrtexecFailureClass.OutOfMemory,
    patterns: [
      /out of memory/i,
      /OutOfMemory/,
      /cudaErrorMemoryAllocation/,
      /Requested amount of GPU memory .* could not be allocated/i,
      /insufficient (?:device )?memory/i,
      /std::bad_alloc/,
      /Error Code 2: OutOfMemory/i,
    ],
    retryable: true,
    errorType: ErrorType.Infrastructure,
    advice:
      'The build ran out of memory. Retry with a smaller workspace (--memPoolSize=workspace:<N>M), a narrower profile (smaller max shapes), ' +
      'or on a worker with a free GPU (other engines may hold memory).',
  },
  {
    cls: TrtexecFailureClass.BuilderCreation,
    patterns: [/Builder creation failed/i, /createCaskKernelLibrary/, /validateCaskKLibSize/, /Cuda initialization failure/i, /CUDA driver version is insufficient/i],
    retryable: true,
    errorType: ErrorType.Infrastructure,
    advice:
      'TensorRT could not create a builder on this worker (kernel library, driver or GPU not supported by this TensorRT build). ' +
      'Retry on another worker; if it fails everywhere, use a TensorRT release that supports this GPU architecture.',
  },
  {
    cls: TrtexecFailureClass.ShapeMismatch,
    patterns: [
      /optimization profile/i,
      /Dynamic dimensions required for input/i,
      /does not satisfy (?:the )?(?:min|max|profile)/i,
      /(?:min|opt|max)(?:imum)? (?:shape|dimensions?) .*(?:exceed|larger|smaller|less|greater)/i,
      /Static model does not take explicit shapes/i,
      /Cannot find input tensor with name/i,
      /shape .* (?:doesn't|does not) match/i,
      /setInputShape|set_input_shape|setBindingDimensions/,
      /Invalid (?:input )?shape/i,
      /kMIN .* kOPT|kOPT .* kMAX/,
    ],
    retryable: false,
    errorType: ErrorType.BadInput,
    advice:
      "Input shapes do not match the model: make the ONNX dynamic axes and the manifest's min/opt/max agree " +
      '(every dynamic axis needs a range, min <= opt <= max, fixed axes must equal the ONNX size), and name inputs exactly as in the ONNX.',
  },
  {
    cls: TrtexecFailureClass.InvalidArguments,
    patterns: [/Unknown option/i, /Invalid (?:usage|argument)/i, /flag has been removed/i, /conversion failure: failed to parse/i],
    retryable: false,
    errorType: ErrorType.BadInput,
    advice:
      'trtexec rejected an argument: the command was built for a different TensorRT version (e.g. --workspace/--explicitBatch/--buildOnly on 10.x, ' +
      '--fp16/--int8 on 11.x). Check the detected version and rebuild the command.',
  },
  {
    // TensorRT 10.6 on an H200, on ONNX Runtime's default QDQ output: "While parsing node number 0
    // [DequantizeLinear -> "conv1.bias"]", "only activation types allowed as input to this layer",
    // "TensorRT doesn't support QuantizeLinear/DequantizeLinear with UINT8 zero_point".
    cls: TrtexecFailureClass.UnsupportedQuantization,
    patterns: [
      /(?:QuantizeLinear|DequantizeLinear).*UINT8 zero_?point/i,
      /only activation types allowed as input to this layer/i,
      /While parsing node number \d+ \[(?:Dequantize|Quantize)Linear/,
      // TensorRT 10.6 on an H200, a constant quantized outside a weighted layer (a GELU's "+ 1"):
      // "Quantized constant is only allowed before DQ or PLUGIN_V2 or kPLUGIN_V3 node" (qdqGraphOptimizer).
      /Quantized constant is only allowed before/i,
    ],
    retryable: false,
    errorType: ErrorType.BadInput,
    advice:
      "TensorRT refused the INT8 (Q/DQ) model: it needs symmetric INT8 zero points (no UINT8), INT8 weights or Q/DQ pairs on float weights, " +
      "float biases, and quantized constants only as weights of Conv, ConvTranspose, Gemm and MatMul. modelship's own quantizer writes that form; a model quantized elsewhere must be re-quantized that way (the opset is not the cause). " +
      'Or drop int8 from the target (or put fp16 after it on a ladder).',
  },
  {
    cls: TrtexecFailureClass.OnnxParse,
    patterns: [/Failed to parse onnx file/i, /Parsing model failed/i, /ModelImporter\.cpp/],
    retryable: false,
    errorType: ErrorType.BadInput,
    advice: 'The ONNX parser rejected the model: run onnx.checker and shape inference, re-export with a supported opset (17+), and check the first [E] line.',
  },
];

function firstMatch(lines: readonly string[], patterns: readonly RegExp[]): string | null {
  for (const line of lines) if (patterns.some((p) => p.test(line))) return line;
  return null;
}

/**
 * Classifies a failed or crashed run.
 *
 * @param log - the parsed log
 * @param rawText - the whole log text, when at hand: lines that are not `[E]` (info lines such as
 *   `Plugin not found ...`, raw assertion messages) are searched after the errors
 * @returns `null` for a run that passed
 */
export function classifyTrtexecFailure(log: TrtexecLog, rawText?: string): TrtexecFailure | null {
  if (log.status === 'passed') return null;
  const errorLines = log.errors;
  // Info and verbose lines describe normal progress ("Set shape ... for optimization profile 0"),
  // so only warnings, fatal lines and un-prefixed text (asserts, ONNX node dumps) count.
  const otherLines = rawText
    ? rawText
        .split(/\r?\n/)
        .map((l) => l.trim())
        .filter((l) => l !== '' && !/^\[[^\]]*\] \[[IV]\]/.test(l))
    : [];

  for (const rule of RULES) {
    const evidence = firstMatch(errorLines, rule.patterns) ?? (log.status === 'failed' ? firstMatch(otherLines, rule.patterns) : null);
    if (evidence) {
      return { class: rule.cls, retryable: rule.retryable, errorType: rule.errorType, advice: rule.advice, evidence };
    }
  }
  if (log.status === 'crashed') {
    const oom = firstMatch(otherLines.slice(-50), RULES[1]!.patterns);
    if (oom) {
      const r = RULES[1]!;
      return { class: r.cls, retryable: r.retryable, errorType: r.errorType, advice: r.advice, evidence: oom };
    }
    return {
      class: TrtexecFailureClass.Crash,
      retryable: true,
      errorType: ErrorType.Infrastructure,
      advice:
        'trtexec ended without a PASSED/FAILED line: it crashed (assertion, signal) or was killed. Retry on another worker; ' +
        'if it crashes the same way again, the last line names the failing TensorRT component (e.g. Myelin) — try another precision or TensorRT version and report it.',
      evidence: log.lastLine,
    };
  }
  return {
    class: TrtexecFailureClass.Unknown,
    retryable: false,
    errorType: ErrorType.BadInput,
    advice: 'trtexec failed for a reason modelship does not recognise: read the first [E] line of the build log.',
    evidence: errorLines[0] ?? log.lastLine,
  };
}
