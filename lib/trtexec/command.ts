/**
 * trtexec command lines for building an engine ({@link buildTrtexecCommand}) and timing one
 * ({@link buildTrtexecBenchCommand}), shaped by the TensorRT version on the worker. The result is
 * an argv array for `execa` (no shell), never a string to be split.
 *
 * Version rules come from {@link trtexecCapabilities}; never copy TRT-8-era command lines
 * (`--explicitBatch`, `--workspace`, `--buildOnly`): TensorRT 10 rejects them.
 *
 * @module
 */
import { UserError } from '../errors.ts';
import type { InputSpec, Precision } from '../manifest.ts';
import { formatShapeSpec, isDynamicInput, profileShapeArgs } from './shapes.ts';
import { formatTensorRTVersion, isAtLeast, MIN_SUPPORTED_TENSORRT, trtexecCapabilities, type TensorRTVersion } from './version.ts';

/** A program and its arguments. */
export interface TrtexecCommand {
  executable: string;
  args: string[];
  /** Things the caller should surface (deprecated paths taken, defaults applied). */
  warnings: string[];
}

/** What an engine build needs. */
export interface TrtexecBuildInput {
  /** The ONNX model to build from (for INT8: the Q/DQ model from the quantize step). */
  onnxPath: string;
  /** Where the serialized engine goes (`--saveEngine`). */
  enginePath: string;
  /** The manifest's inputs; dynamic dims become the optimization profile. */
  inputs: ReadonlyArray<Pick<InputSpec, 'name' | 'dims'>>;
  precision: Precision;
  /** The TensorRT on the worker (from `trtexec` / the toolkit's doctor). */
  version: TensorRTVersion;
  /** Builder workspace limit in MiB; omitted: TensorRT's default (the device's memory). */
  workspaceMiB?: number;
  /** Timing cache shared by builds on the same GPU architecture and TensorRT version. */
  timingCachePath?: string;
  /** Write per-layer engine information (JSON) here; implies `--profilingVerbosity=detailed`. */
  layerInfoPath?: string;
  /**
   * The ONNX already carries the target precision (fp16/bf16 tensors from ModelOpt AutoCast).
   * Needed on TensorRT 11, where `--fp16/--bf16` no longer exist; preferred from 10.14. An INT8
   * Q/DQ model always counts as typed.
   */
  onnxHasPrecision?: boolean;
  /**
   * The ONNX is an explicitly quantized (Q/DQ) model, checked by the toolkit's build
   * (toolkit/modelship_toolkit/qdq_form.py). An INT8 build needs this or
   * {@link int8CalibrationCache}: `--int8` with neither makes trtexec calibrate on random data
   * (top-1 agreement fell to 56% on the digits model, TensorRT 10.6 on an H200).
   */
  onnxIsQdq?: boolean;
  /**
   * Implicit INT8 calibration cache (`--calib`), for a model WITHOUT Q/DQ nodes. Only on
   * TensorRT < 10: the calibrator APIs are deprecated since 10.1 and `--calib` is gone in 11.
   */
  int8CalibrationCache?: string;
  /** Let FP32 layers use TF32 tensor cores (TensorRT's default); off by default for FP32 parity. */
  allowTf32?: boolean;
  /** Program to run; default `trtexec`. */
  executable?: string;
}

function assertSupported(version: TensorRTVersion): void {
  if (!isAtLeast(version, MIN_SUPPORTED_TENSORRT.major, MIN_SUPPORTED_TENSORRT.minor, MIN_SUPPORTED_TENSORRT.patch)) {
    throw new UserError(
      `TensorRT ${formatTensorRTVersion(version)} is older than ${formatTensorRTVersion(MIN_SUPPORTED_TENSORRT)}, the oldest modelship builds with`,
      'use a GPU worker image with TensorRT 10 (nvcr.io/nvidia/tensorrt:<yy.mm>-py3)',
    );
  }
}

/** `--memPoolSize=workspace:<N>` in the unit this version reads (see version.ts). */
function workspaceArg(version: TensorRTVersion, mib: number): string {
  if (!Number.isInteger(mib) || mib <= 0) throw new UserError(`workspace must be a positive whole number of MiB, got ${mib}`);
  // < 10: the number is std::stod'd as MiB and a suffix is ignored. ≥ 10: a suffix is honoured,
  // and a bare number means bytes on 10.0–10.7, so always say `M`. Never `MiB`: on 10.x the
  // trailing `B` makes it bytes (fixture trt10_14_fp16_dynamic_build_verbose: 1 KiB workspace).
  return trtexecCapabilities(version).memPoolUnitSuffix ? `--memPoolSize=workspace:${mib}M` : `--memPoolSize=workspace:${mib}`;
}

/** The precision flags for a build, and whether the network is built strongly typed. */
function precisionArgs(input: TrtexecBuildInput, warnings: string[]): string[] {
  const { version, precision } = input;
  const caps = trtexecCapabilities(version);
  const v = formatTensorRTVersion(version);
  const typed = precision === 'int8' ? input.onnxIsQdq === true : input.onnxHasPrecision === true;
  // Strong typing: TensorRT 11 always; 10.14+ whenever the ONNX carries its precision.
  const strong = caps.alwaysStronglyTyped ? [] : ['--stronglyTyped'];

  if (input.int8CalibrationCache !== undefined && precision !== 'int8') {
    throw new UserError(`an INT8 calibration cache was given for a ${precision} build`);
  }
  if (input.onnxIsQdq && input.int8CalibrationCache !== undefined) {
    throw new UserError('an INT8 calibration cache was given for a Q/DQ model', 'a Q/DQ model carries its scales: drop the calibration cache');
  }

  switch (precision) {
    case 'fp32':
      return [...(caps.prefersStronglyTyped ? strong : []), ...(input.allowTf32 ? [] : ['--noTF32'])];
    case 'fp16':
    case 'bf16': {
      const flag = `--${precision}`;
      if (precision === 'bf16' && !caps.bf16Flag && !caps.alwaysStronglyTyped && !(typed && caps.stronglyTypedFlag)) {
        throw new UserError(`TensorRT ${v} cannot build BF16 engines (--bf16 exists from 9.1)`, 'use a TensorRT 10 worker image');
      }
      if (typed) {
        if (caps.stronglyTypedFlag || caps.alwaysStronglyTyped) return strong;
        return [flag];
      }
      if (caps.alwaysStronglyTyped) {
        throw new UserError(
          `TensorRT ${v} has no ${flag}: every network is strongly typed, so the ONNX must already be ${precision.toUpperCase()}`,
          'convert the ONNX first (python -m modelopt.onnx.autocast --onnx_path model.onnx --output_path model_fp16.onnx) and set onnxHasPrecision',
        );
      }
      if (caps.prefersStronglyTyped) {
        warnings.push(`${flag} is deprecated in TensorRT ${v} (weak typing); convert the ONNX with ModelOpt AutoCast and build strongly typed`);
      }
      return [flag];
    }
    case 'int8': {
      if (!typed) {
        if (input.int8CalibrationCache === undefined) {
          throw new UserError(
            'refusing an INT8 build from a model without Q/DQ nodes and without a calibration cache: trtexec would calibrate on random data ' +
              '(top-1 agreement with FP32 fell to 56% when this was tried)',
            "build INT8 from the toolkit's Q/DQ model (calibrated on the manifest's calibration data)",
          );
        }
        if (isAtLeast(version, 10)) {
          throw new UserError(
            `implicit INT8 calibration (--calib) is not used with TensorRT ${v}: it is deprecated since 10.1 and removed in 11`,
            'quantize the ONNX with Q/DQ nodes (explicit quantization) and build that model',
          );
        }
        return ['--int8', `--calib=${input.int8CalibrationCache}`];
      }
      // Explicit quantization: the Q/DQ nodes carry the scales, so no --calib. Weakly typed
      // builds must still enable INT8 kernels; strongly typed builds take types from the graph.
      if (caps.prefersStronglyTyped || caps.alwaysStronglyTyped) return strong;
      return ['--int8'];
    }
  }
}

/**
 * The trtexec command that builds one engine.
 *
 * Always: `--onnx`, `--saveEngine`, the min/opt/max profile of dynamic inputs, and
 * `--skipInference` (benchmarking is its own step). Optional: workspace, timing cache, layer
 * info. Precision follows the version: weak-typing flags (`--fp16`, `--int8`, `--bf16`) up to
 * 10.13, `--stronglyTyped` from 10.14 when the ONNX carries its precision, none on 11.
 *
 * @throws {@link UserError} when the version cannot build the requested precision this way
 */
export function buildTrtexecCommand(input: TrtexecBuildInput): TrtexecCommand {
  assertSupported(input.version);
  const caps = trtexecCapabilities(input.version);
  const warnings: string[] = [];
  const args = [`--onnx=${input.onnxPath}`, `--saveEngine=${input.enginePath}`];
  args.push(...profileShapeArgs(input.inputs));
  args.push(...precisionArgs(input, warnings));
  if (input.workspaceMiB !== undefined) args.push(workspaceArg(input.version, input.workspaceMiB));
  if (input.timingCachePath !== undefined) args.push(`--timingCacheFile=${input.timingCachePath}`);
  if (input.layerInfoPath !== undefined) {
    args.push('--profilingVerbosity=detailed', `--exportLayerInfo=${input.layerInfoPath}`);
  }
  args.push(caps.skipInferenceFlag ? '--skipInference' : '--buildOnly');
  return { executable: input.executable ?? 'trtexec', args, warnings };
}

/** What a timing run needs. */
export interface TrtexecBenchInput {
  /** The engine to load (`--loadEngine`). */
  enginePath: string;
  version: TensorRTVersion;
  /** The manifest's inputs: only dynamic ones get a `--shapes` entry. */
  inputs: ReadonlyArray<Pick<InputSpec, 'name' | 'dims'>>;
  /** Full shape per input name for this run (e.g. one of `benchmark.shapes`, or the opt shapes). */
  shape?: Readonly<Record<string, readonly number[]>>;
  /** Warm-up time in milliseconds (`--warmUp` is a duration, not a count). Default 200. */
  warmUpMs?: number;
  /** Minimum number of timed iterations. */
  iterations: number;
  /** Minimum timed wall-clock seconds (`--duration`); trtexec's default (3 s) when omitted. */
  durationS?: number;
  /** Per-iteration timings JSON (`--exportTimes`). */
  timesPath?: string;
  /** Per-layer profile JSON (`--exportProfile`); adds `--separateProfileRun` (see below). */
  profilePath?: string;
  /**
   * Replay the enqueue through a CUDA graph (`--useCudaGraph`). Off by default: it lowers enqueue
   * overhead, so latencies look better than a serving runtime that does not capture graphs, and
   * capture fails for engines with data-dependent shapes or some plugins.
   */
  cudaGraph?: boolean;
  /**
   * Skip host↔device copies (`--noDataTransfers`). Off by default so `Latency` is end to end as a
   * server sees it; GPU Compute Time is reported separately either way. With it on, H2D/D2H are
   * printed as 0 ms (fixture trt8_5_10_best_qat_dumpprofile).
   */
  noDataTransfers?: boolean;
  /** `--useSpinWait`: steadier timings (trtexec suggests it when the CoV is high). Default on. */
  spinWait?: boolean;
  executable?: string;
}

/**
 * The trtexec command that times an engine: `--loadEngine`, `--shapes` for dynamic inputs,
 * `--warmUp`, `--iterations`, and the JSON exports.
 *
 * With `--exportProfile` trtexec enables its layer profiler; without `--separateProfileRun` the
 * performance summary is then omitted ("The e2e network timing is not reported...", fixture
 * trt10_16_infer_dumpprofile), so this adds `--separateProfileRun` whenever a profile is asked for.
 */
export function buildTrtexecBenchCommand(input: TrtexecBenchInput): TrtexecCommand {
  assertSupported(input.version);
  const warnings: string[] = [];
  const args = [`--loadEngine=${input.enginePath}`];
  const dynamic = input.inputs.filter(isDynamicInput);
  if (dynamic.length > 0) {
    const shapes = dynamic.map((i) => {
      const dims = input.shape?.[i.name];
      if (!dims) throw new UserError(`no benchmark shape for dynamic input "${i.name}"`, 'give a full shape for every dynamic input');
      if (dims.length !== i.dims.length) throw new UserError(`benchmark shape for "${i.name}" has ${dims.length} dims, expected ${i.dims.length}`);
      return { name: i.name, dims };
    });
    args.push(`--shapes=${formatShapeSpec(shapes)}`);
  }
  if (!Number.isInteger(input.iterations) || input.iterations <= 0) throw new UserError(`iterations must be a positive integer, got ${input.iterations}`);
  args.push(`--warmUp=${input.warmUpMs ?? 200}`, `--iterations=${input.iterations}`);
  if (input.durationS !== undefined) args.push(`--duration=${input.durationS}`);
  if (input.spinWait ?? true) args.push('--useSpinWait');
  if (input.cudaGraph) args.push('--useCudaGraph');
  if (input.noDataTransfers) args.push('--noDataTransfers');
  if (input.timesPath !== undefined) args.push(`--exportTimes=${input.timesPath}`);
  if (input.profilePath !== undefined) args.push(`--exportProfile=${input.profilePath}`, '--separateProfileRun');
  return { executable: input.executable ?? 'trtexec', args, warnings };
}
