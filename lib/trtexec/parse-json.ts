/**
 * Parsers for the JSON files trtexec writes: `--exportTimes` (one record per timed query),
 * `--exportProfile` (per-layer times) and `--exportLayerInfo` (engine layers, names-only or
 * detailed). Shapes are checked with zod; unknown extra keys are kept.
 *
 * Percentiles follow trtexec's own definitions (samples/common/sampleReporting.cpp,
 * `findPercentile` / `findMedian`): sort ascending; the p-th percentile is element
 * `max(n - 1 - trunc((1 - p/100) * n), 0)` computed in float32; the median of an even count is the mean of the two
 * middle values. So a p99 computed here matches what the log would print for the same queries.
 *
 * @module
 */
import { z } from 'zod';

/** One record of `--exportTimes` (TensorRT 8.x to 10.x keys; all times in ms). */
export const ExportTimesRecordSchema = z.looseObject({
  startEnqMs: z.number(),
  endEnqMs: z.number(),
  startH2dMs: z.number(),
  endH2dMs: z.number(),
  startComputeMs: z.number(),
  endComputeMs: z.number(),
  startD2hMs: z.number(),
  endD2hMs: z.number(),
  h2dMs: z.number(),
  computeMs: z.number(),
  d2hMs: z.number(),
  latencyMs: z.number(),
});
/** One `--exportTimes` record. */
export type ExportTimesRecord = z.infer<typeof ExportTimesRecordSchema>;

/** The whole `--exportTimes` file. */
export const ExportTimesSchema = z.array(ExportTimesRecordSchema);

/** One layer row of `--exportProfile`. */
export const ExportProfileLayerSchema = z.looseObject({
  name: z.string(),
  timeMs: z.number(),
  averageMs: z.number(),
  medianMs: z.number(),
  percentage: z.number(),
});
/** One `--exportProfile` layer. */
export type ExportProfileLayer = z.infer<typeof ExportProfileLayerSchema>;

/** A parsed `--exportProfile` file: the iteration count (first element) and the layers. */
export interface ExportProfile {
  /** Profiled iterations (`{ "count": N }`). */
  count: number;
  layers: ExportProfileLayer[];
  /** Sum of `timeMs` over layers. */
  totalTimeMs: number;
  /** Sum of `averageMs` over layers: the per-iteration GPU time the profiler saw. */
  totalAverageMs: number;
}

const tensorSchema = z.looseObject({
  Name: z.string(),
  /** 10.x only. */
  Location: z.string().optional(),
  Dimensions: z.array(z.number()).optional(),
  'Format/Datatype': z.string().optional(),
});

/** One layer of a detailed (`--profilingVerbosity=detailed`) layer-info export. */
export const DetailedLayerSchema = z.looseObject({
  Name: z.string(),
  LayerType: z.string(),
  Inputs: z.array(tensorSchema).default([]),
  Outputs: z.array(tensorSchema).default([]),
  TacticName: z.string().optional(),
  TacticValue: z.string().optional(),
  /** 10.x only. */
  StreamId: z.number().optional(),
  /** 10.x only: `[ONNX Layer: a]\u001e[ONNX Layer: b]`. */
  Metadata: z.string().optional(),
});
/** One detailed layer. */
export type DetailedLayer = z.infer<typeof DetailedLayerSchema>;

const layerInfoFileSchema = z.looseObject({
  Layers: z.array(z.union([z.string(), DetailedLayerSchema])),
  Bindings: z.array(z.string()).optional(),
  /** TensorRT 11 renamed `Bindings` (IEngineInspector JSON migration guide). */
  'I/O Tensors': z.array(z.unknown()).optional(),
});

/** A parsed `--exportLayerInfo` file. */
export interface LayerInfo {
  /** `names-only` when every layer is a plain string (default profiling verbosity). */
  verbosity: 'names-only' | 'detailed';
  layerNames: string[];
  /** Detailed layers; empty for a names-only export. */
  layers: DetailedLayer[];
  /** I/O tensor names (`Bindings`, or the names under TensorRT 11's `I/O Tensors`). */
  bindings: string[];
  /** For detailed exports: the ONNX node names per layer, split out of `Metadata` (10.x). */
  onnxLayers: Record<string, string[]>;
  /** Count of layers per `LayerType` (detailed only). */
  layerTypes: Record<string, number>;
}

/** p50/p95/p99 and friends of one per-query quantity, in ms. */
export interface LatencySummary {
  count: number;
  min: number;
  max: number;
  mean: number;
  p50: number;
  p95: number;
  p99: number;
}

/** The statistics computed from `--exportTimes`. */
export interface ExportTimesSummary {
  queries: number;
  /** Host latency per query (`latencyMs`: H2D + compute + D2H). */
  latencyMs: LatencySummary;
  /** GPU compute per query (`computeMs`). */
  computeMs: LatencySummary;
  /** Enqueue time per query (`endEnqMs - startEnqMs`). */
  enqueueMs: LatencySummary;
  /** Queries per second over the span from the first enqueue to the last D2H end. */
  throughputQps: number;
}

function parseJsonText(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Error(`${what}: not valid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
}

function check<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const r = schema.safeParse(value);
  if (!r.success) {
    const first = r.error.issues[0];
    throw new Error(`${what}: unexpected shape at ${first?.path.join('.') || '(root)'}: ${first?.message ?? 'invalid'}`);
  }
  return r.data;
}

/**
 * trtexec's percentile: element `max(n - 1 - trunc((1 - p/100) * n), 0)` of the sorted values.
 * trtexec does this arithmetic in 32-bit `float`, which matters at the edges (p90 of 10 values:
 * float gives `1 - 0.9f = 0.100000024`, so 1 value is excluded; doubles would give 0), so it is
 * repeated here with `Math.fround`.
 */
export function trtexecPercentile(sortedAscending: readonly number[], percentile: number): number {
  const n = sortedAscending.length;
  if (n === 0) return Number.POSITIVE_INFINITY;
  if (percentile < 0 || percentile > 100) throw new RangeError(`percentile ${percentile} is not in [0, 100]`);
  const f = Math.fround;
  const exclude = Math.trunc(f(f(1 - f(f(percentile) / 100)) * f(n)));
  return sortedAscending[Math.max(n - 1 - exclude, 0)]!;
}

/** trtexec's median: the middle element, or the mean of the two middle ones. */
export function trtexecMedian(sortedAscending: readonly number[]): number {
  const n = sortedAscending.length;
  if (n === 0) return Number.POSITIVE_INFINITY;
  const m = Math.floor(n / 2);
  return n % 2 ? sortedAscending[m]! : (sortedAscending[m - 1]! + sortedAscending[m]!) / 2;
}

/** Summarizes a list of per-query values the way trtexec does. */
export function summarizeLatencies(values: readonly number[]): LatencySummary {
  if (values.length === 0) throw new Error('no timings to summarize');
  const s = [...values].sort((a, b) => a - b);
  const sum = s.reduce((a, b) => a + b, 0);
  return {
    count: s.length,
    min: s[0]!,
    max: s[s.length - 1]!,
    mean: sum / s.length,
    p50: trtexecMedian(s),
    p95: trtexecPercentile(s, 95),
    p99: trtexecPercentile(s, 99),
  };
}

/** Parses an `--exportTimes` file. */
export function parseExportTimes(text: string): ExportTimesRecord[] {
  return check(ExportTimesSchema, parseJsonText(text, 'exportTimes'), 'exportTimes');
}

/** p50/p95/p99 latency, compute and enqueue time, and throughput from `--exportTimes` records. */
export function summarizeExportTimes(records: readonly ExportTimesRecord[]): ExportTimesSummary {
  if (records.length === 0) throw new Error('exportTimes: no records');
  const start = Math.min(...records.map((r) => r.startEnqMs));
  const end = Math.max(...records.map((r) => Math.max(r.endD2hMs, r.endComputeMs)));
  return {
    queries: records.length,
    latencyMs: summarizeLatencies(records.map((r) => r.latencyMs)),
    computeMs: summarizeLatencies(records.map((r) => r.computeMs)),
    enqueueMs: summarizeLatencies(records.map((r) => r.endEnqMs - r.startEnqMs)),
    throughputQps: end > start ? (records.length / (end - start)) * 1000 : Number.NaN,
  };
}

/** Parses an `--exportProfile` file: `[{ "count": N }, { name, timeMs, ... }, ...]`. */
export function parseExportProfile(text: string): ExportProfile {
  const value = parseJsonText(text, 'exportProfile');
  const arr = check(z.array(z.unknown()).min(1), value, 'exportProfile');
  const head = check(z.looseObject({ count: z.int().nonnegative() }), arr[0], 'exportProfile[0]');
  const layers = check(z.array(ExportProfileLayerSchema), arr.slice(1), 'exportProfile layers');
  return {
    count: head.count,
    layers,
    totalTimeMs: layers.reduce((a, l) => a + l.timeMs, 0),
    totalAverageMs: layers.reduce((a, l) => a + l.averageMs, 0),
  };
}

/** Parses an `--exportLayerInfo` file, names-only or detailed. */
export function parseLayerInfo(text: string): LayerInfo {
  const file = check(layerInfoFileSchema, parseJsonText(text, 'exportLayerInfo'), 'exportLayerInfo');
  const detailed = file.Layers.filter((l): l is DetailedLayer => typeof l !== 'string');
  const onnxLayers: Record<string, string[]> = {};
  const layerTypes: Record<string, number> = {};
  for (const l of detailed) {
    layerTypes[l.LayerType] = (layerTypes[l.LayerType] ?? 0) + 1;
    if (l.Metadata !== undefined) {
      onnxLayers[l.Name] = [...l.Metadata.matchAll(/\[ONNX Layer: ([^\]]*)\]/g)].map((m) => m[1]!);
    }
  }
  const ioNames = (file['I/O Tensors'] ?? []).map((t) => (typeof t === 'string' ? t : typeof t === 'object' && t && 'Name' in t ? String((t as { Name: unknown }).Name) : String(t)));
  return {
    verbosity: detailed.length === 0 && file.Layers.length > 0 ? 'names-only' : 'detailed',
    layerNames: file.Layers.map((l) => (typeof l === 'string' ? l : l.Name)),
    layers: detailed,
    bindings: file.Bindings ?? ioNames,
    onnxLayers,
    layerTypes,
  };
}
