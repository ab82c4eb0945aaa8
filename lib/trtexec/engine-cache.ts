/**
 * The engine cache key: two builds with the same key produce interchangeable engines, so a
 * retry or a second worker can reuse the first engine instead of rebuilding.
 *
 * key = sha256 over canonical JSON of { onnx sha256, normalized build args, TensorRT version,
 * GPU architecture }. Output and cache paths are dropped from the args (they name where things
 * go, not what is built); input paths whose content matters (the ONNX, a calibration cache) are
 * represented by their digests instead.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { formatTensorRTVersion, type TensorRTVersion } from './version.ts';

/** Flags whose value is a path that does not change the engine's content. */
const PATH_FLAGS = [
  '--onnx',
  '--saveEngine',
  '--loadEngine',
  '--timingCacheFile',
  '--exportLayerInfo',
  '--exportTimes',
  '--exportProfile',
  '--exportOutput',
  '--calib',
] as const;

/** Flags that only change logging/reporting, not the engine. */
const REPORT_FLAGS = ['--verbose', '--skipInference', '--buildOnly', '--dumpLayerInfo', '--dumpProfile', '--separateProfileRun'] as const;

/** What an engine cache key is computed from. */
export interface EngineCacheKeyInput {
  /** sha256 (hex) of the ONNX file built from. */
  onnxSha256: string;
  /** The trtexec build args (as from {@link buildTrtexecCommand}). */
  args: readonly string[];
  version: TensorRTVersion | string;
  /** GPU architecture, e.g. `sm90`. */
  arch: string;
  /** Digests of other inputs that shape the engine (e.g. `{ calib: <sha256> }`). */
  extraDigests?: Readonly<Record<string, string>>;
}

/**
 * Build args without output/input paths and reporting-only flags, sorted, so the same build
 * spelled in another order or into another folder normalizes the same. `--profilingVerbosity`
 * is kept: it changes what the engine stores.
 */
export function normalizeBuildArgs(args: readonly string[]): string[] {
  return args
    .filter((a) => {
      const flag = a.split('=', 1)[0]!;
      return !(PATH_FLAGS as readonly string[]).includes(flag) && !(REPORT_FLAGS as readonly string[]).includes(flag);
    })
    .sort();
}

/** The canonical JSON a key is the hash of (exported for debugging a cache miss). */
export function engineCacheKeyMaterial(input: EngineCacheKeyInput): string {
  if (!/^[0-9a-f]{64}$/.test(input.onnxSha256)) throw new Error(`onnxSha256 must be 64 lowercase hex digits, got "${input.onnxSha256}"`);
  if (!/^sm\d{2,3}$/.test(input.arch)) throw new Error(`arch must look like "sm90", got "${input.arch}"`);
  const version = typeof input.version === 'string' ? input.version : formatTensorRTVersion(input.version);
  const extra = Object.fromEntries(Object.entries(input.extraDigests ?? {}).sort(([a], [b]) => a.localeCompare(b)));
  return JSON.stringify({ v: 1, onnx: input.onnxSha256, args: normalizeBuildArgs(input.args), tensorrt: version, arch: input.arch, extra });
}

/** The engine cache key: 64 hex digits. */
export function engineCacheKey(input: EngineCacheKeyInput): string {
  return createHash('sha256').update(engineCacheKeyMaterial(input)).digest('hex');
}

/** A timing-cache file name per architecture and TensorRT version (caches are not portable across either). */
export function timingCacheFileName(arch: string, version: TensorRTVersion | string): string {
  const v = typeof version === 'string' ? version : formatTensorRTVersion(version);
  return `timing-${arch}-trt${v}.cache`;
}
