/**
 * The typed result of parsing a trtexec log ({@link TrtexecLogSchema}). Every field that a
 * version or a run may not print is nullable rather than guessed.
 *
 * @module
 */
import { z } from 'zod';

/** How a trtexec run ended. */
export const TrtexecStatus = {
  /** `&&&& PASSED` */
  Passed: 'passed',
  /** `&&&& FAILED` */
  Failed: 'failed',
  /** No `&&&& PASSED/FAILED` line: the process died (assert, signal) or the log was cut. */
  Crashed: 'crashed',
} as const;
/** One of {@link TrtexecStatus}. */
export type TrtexecStatus = (typeof TrtexecStatus)[keyof typeof TrtexecStatus];

/** min/max/mean/median and the printed percentiles of one summary line, in ms. */
export const TimingStatsSchema = z.object({
  min: z.number(),
  max: z.number(),
  mean: z.number(),
  median: z.number(),
  /** By percentile as printed: `{ "90": 1.43, "95": 1.52, "99": 1.76 }` (8.4 prints only 99). */
  percentiles: z.record(z.string(), z.number()),
});
/** Statistics of one summary line. */
export type TimingStats = z.infer<typeof TimingStatsSchema>;

/** One input's optimization profile as echoed by trtexec. */
export const ProfileShapeSchema = z.object({
  name: z.string(),
  min: z.array(z.int()),
  opt: z.array(z.int()),
  max: z.array(z.int()),
});

/** One `[MemUsageChange]` line. */
export const MemUsageChangeSchema = z.object({
  what: z.string(),
  cpuDeltaMiB: z.number(),
  gpuDeltaMiB: z.number(),
  cpuNowMiB: z.number(),
  gpuNowMiB: z.number(),
});

/** One row of the `--dumpProfile` table. */
export const ProfileRowSchema = z.object({
  layer: z.string(),
  timeMs: z.number(),
  avgMs: z.number(),
  medianMs: z.number(),
  percent: z.number(),
});

/** The parsed trtexec log. */
export const TrtexecLogSchema = z.object({
  status: z.enum(['passed', 'failed', 'crashed']),
  /** `10.14.1`: from the `TensorRT version:` line, else decoded from the banner. */
  tensorrtVersion: z.string().nullable(),
  /** The banner integer, e.g. 101401. */
  bannerCode: z.int().nullable(),
  /** The banner's `[bNN]` build tag (10.x only, not always). */
  buildTag: z.string().nullable(),
  /** The argv trtexec echoed after `#`. */
  commandLine: z.string().nullable(),
  args: z.array(z.string()),
  options: z.object({
    /** As printed: `FP32`, `FP32+FP16`, `FP32+FP16+INT8`. */
    precision: z.string().nullable(),
    precisions: z.array(z.string()),
    /** `Memory Pools: workspace: N MiB`; null for `default` or when not printed. */
    workspaceMiB: z.number().nullable(),
    buildShapes: z.array(ProfileShapeSchema),
    inferenceShapes: z.record(z.string(), z.array(z.int())),
    saveEngine: z.string().nullable(),
    loadEngine: z.string().nullable(),
    timingCacheFile: z.string().nullable(),
    /** `Skip inference` (8.6+) or `Build only` (≤ 8.5). */
    skipInference: z.boolean().nullable(),
    cudaGraph: z.boolean().nullable(),
    dataTransfers: z.boolean().nullable(),
    separateProfileRun: z.boolean().nullable(),
  }),
  device: z
    .object({
      name: z.string(),
      /** `8.9` */
      computeCapability: z.string().nullable(),
      /** `sm89` */
      arch: z.string().nullable(),
      globalMemoryMiB: z.number().nullable(),
      sms: z.int().nullable(),
    })
    .nullable(),
  engine: z.object({
    /** `Created engine with size: X MiB` (10.x). */
    sizeMiB: z.number().nullable(),
    /** `Loaded engine size: N MiB` (whole MiB, all versions). */
    loadedSizeMiB: z.number().nullable(),
    /** `Engine built in X sec.` */
    buildSeconds: z.number().nullable(),
    /** Every `Engine generation completed in X seconds.` (one build may print several). */
    generationSeconds: z.array(z.number()),
    deserializeSeconds: z.number().nullable(),
    contextDeviceMemoryMiB: z.number().nullable(),
  }),
  memory: z.object({
    changes: z.array(MemUsageChangeSchema),
    /** Largest `now: CPU N` of the `[MemUsageChange]` lines. */
    peakCpuMiB: z.number().nullable(),
    /** Largest `now: GPU N` of the `[MemUsageChange]` lines. */
    peakGpuMiB: z.number().nullable(),
    /** `[MemUsageStats] Peak memory usage of TRT CPU/GPU memory allocators`. */
    allocatorPeak: z.object({ cpuMiB: z.number(), gpuMiB: z.number() }).nullable(),
  }),
  inference: z
    .object({
      warmupQueries: z.int().nullable(),
      warmupMs: z.number().nullable(),
      queries: z.int().nullable(),
      seconds: z.number().nullable(),
    })
    .nullable(),
  performance: z
    .object({
      throughputQps: z.number(),
      latency: TimingStatsSchema.nullable(),
      enqueueTime: TimingStatsSchema.nullable(),
      h2dLatency: TimingStatsSchema.nullable(),
      gpuComputeTime: TimingStatsSchema.nullable(),
      d2hLatency: TimingStatsSchema.nullable(),
      totalHostWalltimeS: z.number().nullable(),
      totalGpuComputeTimeS: z.number().nullable(),
    })
    .nullable(),
  profile: z
    .object({
      iterations: z.int(),
      layers: z.array(ProfileRowSchema),
      total: ProfileRowSchema.nullable(),
    })
    .nullable(),
  /** `[E]` messages, with un-prefixed continuation lines (e.g. an ONNX node dump) appended. */
  errors: z.array(z.string()),
  /** `[W]` messages. */
  warnings: z.array(z.string()),
  /** The last non-empty line (for a crash: usually the assertion). */
  lastLine: z.string().nullable(),
});
/** The parsed trtexec log. */
export type TrtexecLog = z.infer<typeof TrtexecLogSchema>;
