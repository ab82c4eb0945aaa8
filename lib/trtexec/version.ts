/**
 * TensorRT versions: parsing the forms trtexec prints, comparing them, and the trtexec flags each
 * version accepts. The command builder asks {@link trtexecCapabilities} instead of comparing
 * version numbers itself, so every version rule lives here with the evidence behind it.
 *
 * Evidence (checked for this module):
 * - trtexec sources, `samples/common/sampleOptions.cpp` in github.com/NVIDIA/TensorRT at tags
 *   v8.6.0 … v11.1 (read from a local mirror):
 *   - `--explicitBatch` and `--workspace` are parsed (deprecated, with a warning) up to 9.x and are
 *     gone in v10.0.0; the 8.x → 10.x trtexec migration guide lists them as removed
 *     ("will cause trtexec to exit with an error").
 *   - `--buildOnly` exists up to 9.x ("deprecated by --skipInference" from v8.6.0) and is gone in
 *     v10.0.0; `--skipInference` first appears in v8.6.0 (8.5 logs echo `Build only:`, 8.6+
 *     `Skip inference:`, see test/fixtures/trtexec/SOURCES.md).
 *   - `--bf16` and `--stronglyTyped` first appear in v9.1.0 (not in v8.6.x).
 *   - From v10.8.0 `--best` together with `--stronglyTyped` is an error; with `--stronglyTyped`
 *     the flags `--fp16/--int8/--bf16` are ignored with an "Invalid usage" warning.
 *   - From v10.14 the help text says "--fp16, --bf16, --int8, --fp8, --int4, --best are deprecated
 *     and superseded by strong typing", and the 10.14.1 log fixture prints
 *     "Weakly-typed networks have been deprecated". The 10.12.0 release notes deprecate the weak
 *     typing APIs. We prefer strong typing from 10.14 (where trtexec itself says so).
 *   - v11.0 no longer parses `--fp16`, `--bf16`, `--best` or `--calib` for builds; the 10.x → 11.x
 *     trtexec migration guide: "TensorRT 11.x removes all precision flags (--fp16, --int8, --bf16,
 *     --fp8, --int4, --best) … --stronglyTyped is no longer needed: it is always enabled", and
 *     "removes the --int8 and --calib flags" (quantization goes into the ONNX via ModelOpt).
 *   - `--memPoolSize` units: up to 9.x the size is `std::stod`'d and means MiB (a suffix is
 *     silently ignored); 10.0–10.7 apply a unit suffix and a bare number means BYTES; from 10.8 a
 *     bare number gets a default `M` suffix. A `MiB` suffix ends in `B` and means bytes on 10.x:
 *     the 10.14.1 fixture built with `--memPoolSize=workspace:1024MiB` echoes
 *     `workspace: 0.000976562 MiB` (1 KiB). So: bare MiB on < 10, `<N>M` on ≥ 10.
 * - The calibrator APIs are deprecated since 10.1 ("Superseded by explicit quantization", C++ API
 *   deprecated list), so implicit INT8 calibration (`--calib`) is only used on < 10.
 *
 * @module
 */
import { z } from 'zod';

/** A TensorRT version: major.minor.patch and, when printed, the build number. */
export interface TensorRTVersion {
  major: number;
  minor: number;
  patch: number;
  /** Fourth component of the full version (`10.16.0.72` → 72), when known. */
  build?: number;
}

/** The zod schema of {@link TensorRTVersion}. */
export const TensorRTVersionSchema = z.object({
  major: z.int().nonnegative(),
  minor: z.int().nonnegative(),
  patch: z.int().nonnegative(),
  build: z.int().nonnegative().optional(),
});

const DOTTED = /^\s*v?(\d+)\.(\d+)(?:\.(\d+))?(?:\.(\d+))?\s*$/;

/**
 * Parses a dotted TensorRT version: `8.6.1`, `10.16.0.72`, `v10.14`, `11.0`.
 *
 * @returns the version, or `null` when the text is not one
 */
export function parseTensorRTVersion(text: string): TensorRTVersion | null {
  const m = DOTTED.exec(text);
  if (!m) return null;
  const v: TensorRTVersion = { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3] ?? 0) };
  if (m[4] !== undefined) v.build = Number(m[4]);
  return v;
}

/**
 * Decodes the integer of the trtexec banner `[TensorRT v101401]`.
 *
 * 8.x encodes `major*1000 + minor*100 + patch` (v8601 = 8.6.1, v8510 = 8.5.10); 10.x and later
 * encode `major*10000 + minor*100 + patch` (v101401 = 10.14.1). A 4-digit code is 8.x/9.x; a
 * 6-digit code is 10+. The code is ambiguous for 8.x patches ≥ 10 (v8510 could be 8.4.110), so
 * prefer the `TensorRT version: x.y.z` line of the log when there is one.
 *
 * @param banner - `v101401`, `101401`, or a whole `[TensorRT v101401]` banner
 * @returns the version, or `null` when no code is found
 */
export function parseBannerVersion(banner: string): TensorRTVersion | null {
  const m = /v?(\d{4,6})\b/.exec(banner.replace(/^.*\[TensorRT\s+/, ''));
  if (!m) return null;
  const code = Number(m[1]);
  if (m[1]!.length >= 6) {
    return { major: Math.floor(code / 10000), minor: Math.floor((code % 10000) / 100), patch: code % 100 };
  }
  return { major: Math.floor(code / 1000), minor: Math.floor((code % 1000) / 100), patch: code % 100 };
}

/** Formats a version as `major.minor.patch` (plus `.build` when known). */
export function formatTensorRTVersion(v: TensorRTVersion): string {
  return `${v.major}.${v.minor}.${v.patch}${v.build !== undefined ? `.${v.build}` : ''}`;
}

/**
 * Compares two versions on major, minor, patch (the build number is ignored).
 *
 * @returns negative when `a < b`, 0 when equal, positive when `a > b`
 */
export function compareTensorRTVersions(a: TensorRTVersion, b: TensorRTVersion): number {
  return a.major - b.major || a.minor - b.minor || a.patch - b.patch;
}

/** Whether `v` is at least `major.minor[.patch]`. */
export function isAtLeast(v: TensorRTVersion, major: number, minor = 0, patch = 0): boolean {
  return compareTensorRTVersions(v, { major, minor, patch }) >= 0;
}

/** The oldest TensorRT that modelship builds with. */
export const MIN_SUPPORTED_TENSORRT: TensorRTVersion = { major: 8, minor: 6, patch: 0 };

/** What a trtexec of one version accepts and prefers. */
export interface TrtexecCapabilities {
  /** `--explicitBatch` is parsed (deprecated no-op in 8.x/9.x; removed in 10.0). */
  explicitBatchFlag: boolean;
  /** `--workspace=<MiB>` is parsed (deprecated since 8.4; removed in 10.0). */
  workspaceFlag: boolean;
  /** `--buildOnly` is parsed (deprecated in 8.6 by `--skipInference`; removed in 10.0). */
  buildOnlyFlag: boolean;
  /** `--skipInference` is parsed (8.6+). */
  skipInferenceFlag: boolean;
  /** How a bare `--memPoolSize=workspace:<N>` number is read: MiB (< 10.0), bytes (10.0–10.7), MiB (10.8+). */
  memPoolBareUnit: 'MiB' | 'bytes';
  /** A unit suffix (`K`, `M`, `G`) on `--memPoolSize` is honoured (10.0+; ignored before). */
  memPoolUnitSuffix: boolean;
  /** `--fp16` and `--int8` are parsed (weak typing; removed in 11.0). */
  fp16Int8Flags: boolean;
  /** `--bf16` is parsed (9.1 to 10.x). */
  bf16Flag: boolean;
  /** `--calib=<cache>` for implicit INT8 calibration (removed in 11.0; deprecated APIs since 10.1). */
  calibFlag: boolean;
  /** `--stronglyTyped` is parsed (9.1+; a no-op in 11 where strong typing is always on). */
  stronglyTypedFlag: boolean;
  /** Strong typing is what this version prefers: weak-typing precision flags are deprecated (10.14+). */
  prefersStronglyTyped: boolean;
  /** Every network is strongly typed; precision must be in the ONNX graph (11.0+). */
  alwaysStronglyTyped: boolean;
  /** `--staticPlugins` exists (8.6+); `--plugins` is deprecated for it in 10.16 logs. */
  staticPluginsFlag: boolean;
  /** The log's result lines carry a `[bNN]` build tag after the banner (some 10.x builds). */
  bannerMayHaveBuildTag: boolean;
}

/**
 * The trtexec flags a TensorRT version accepts. See the module comment for where each rule
 * comes from.
 */
export function trtexecCapabilities(v: TensorRTVersion): TrtexecCapabilities {
  const ten = isAtLeast(v, 10);
  const eleven = isAtLeast(v, 11);
  return {
    explicitBatchFlag: !ten,
    workspaceFlag: !ten,
    buildOnlyFlag: !ten,
    skipInferenceFlag: isAtLeast(v, 8, 6),
    memPoolBareUnit: ten && !isAtLeast(v, 10, 8) ? 'bytes' : 'MiB',
    memPoolUnitSuffix: ten,
    fp16Int8Flags: !eleven,
    bf16Flag: isAtLeast(v, 9, 1) && !eleven,
    calibFlag: !eleven,
    stronglyTypedFlag: isAtLeast(v, 9, 1),
    prefersStronglyTyped: isAtLeast(v, 10, 14),
    alwaysStronglyTyped: eleven,
    staticPluginsFlag: isAtLeast(v, 8, 6),
    bannerMayHaveBuildTag: ten,
  };
}

/**
 * Flags that must never be passed to this version: the command builder's tests assert none of
 * these appear in a command built for it.
 */
export function forbiddenTrtexecFlags(v: TensorRTVersion): string[] {
  const caps = trtexecCapabilities(v);
  const out: string[] = [];
  if (!caps.explicitBatchFlag) out.push('--explicitBatch');
  if (!caps.workspaceFlag) out.push('--workspace');
  if (!caps.buildOnlyFlag) out.push('--buildOnly');
  if (!caps.fp16Int8Flags) out.push('--fp16', '--int8', '--best');
  if (!caps.bf16Flag) out.push('--bf16');
  if (!caps.calibFlag) out.push('--calib');
  if (!caps.stronglyTypedFlag) out.push('--stronglyTyped');
  return out;
}
