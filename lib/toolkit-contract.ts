/**
 * The TypeScript ↔ Python boundary: one request and one result shape per toolkit command, defined
 * once here. `npm run schemas` writes their JSON Schemas into the toolkit, which validates every
 * request against them; activities validate every result with these zod schemas.
 *
 * Call: `python -m modelship_toolkit <command> --request req.json --result res.json`.
 * Exit codes: see {@link ToolkitExit}.
 *
 * @module
 */
import { z } from 'zod';
import { ManifestSchema } from './manifest.ts';

/** What the toolkit's exit code means. */
export const ToolkitExit = {
  Ok: 0,
  /** A crash (anything not raised on purpose): retryable; the result holds `error` when it could be written. */
  Crash: 1,
  /** Bad input: not retryable; the result holds `error`. */
  BadInput: 2,
  /** A gate said no: not retryable; the result holds the report. */
  GateFailed: 3,
} as const;

/** A file on the worker's disk, with its digest. */
export const FileDigestSchema = z.object({
  path: z.string(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  bytes: z.int().nonnegative(),
});
/** A file on the worker's disk, with its digest. */
export type FileDigest = z.infer<typeof FileDigestSchema>;

/** A manifest already validated by the orchestration side, passed through as JSON. */
const manifestField = ManifestSchema;

const precision = z.enum(['fp32', 'fp16', 'bf16', 'int8']);
const backend = z.enum(['onnxruntime-cpu', 'tensorrt', 'pytorch']);
const verdict = z.enum(['pass', 'fail']);

/** One threshold check of a gate: the decision record's core. */
export const CheckSchema = z.object({
  name: z.string(),
  statistic: z.number().nullable(),
  op: z.enum(['>=', '<=', '>', '<', '==']),
  threshold: z.number(),
  passed: z.boolean(),
  detail: z.string().optional(),
});
/** One threshold check of a gate. */
export type Check = z.infer<typeof CheckSchema>;

// ---------------------------------------------------------------- data (before the release starts)

/**
 * `data`: checks the manifest's data files in a model repository (calibration and parity `.npz`):
 * an array per input with its dtype and dims, labels, and enough samples. Loads no model code.
 */
export const DataRequestSchema = z.object({
  repoDir: z.string(),
  manifest: manifestField,
});
/** Result of `data`: one line per file checked. */
export const DataResultSchema = z.object({
  files: z.array(z.object({ field: z.string(), path: z.string(), samples: z.int(), arrays: z.record(z.string(), z.array(z.int())) })),
});

// ---------------------------------------------------------------- inspect (step 1)

/** `inspect`: digest the checkpoint, load it into the model class, gate on metrics.json. */
export const InspectRequestSchema = z.object({
  repoDir: z.string(),
  manifest: manifestField,
  checkpointPath: z.string(),
  metricsPath: z.string(),
});
/** Result of `inspect`. */
export const InspectResultSchema = z.object({
  checkpoint: FileDigestSchema,
  parameters: z.int().nonnegative(),
  metrics: z.record(z.string(), z.number()),
  checks: z.array(CheckSchema),
  verdict,
  versions: z.object({ python: z.string(), torch: z.string() }),
});

// ---------------------------------------------------------------- export (step 2)

/** `export`: PyTorch → ONNX with dynamic axes, checker, shape inference, determinism, op census. */
export const ExportRequestSchema = z.object({
  repoDir: z.string(),
  manifest: manifestField,
  checkpointPath: z.string(),
  outDir: z.string(),
});
/** Result of `export`. */
export const ExportResultSchema = z.object({
  onnx: FileDigestSchema,
  exporter: z.enum(['torchscript', 'dynamo']),
  opsetRequested: z.int(),
  opsetWritten: z.int(),
  irVersion: z.int(),
  operators: z.record(z.string(), z.int()),
  watchList: z.array(z.object({ op: z.string(), count: z.int(), advice: z.string() })),
  determinism: z.object({ maxAbs: z.number(), passed: z.boolean() }),
  /** What the toolkit changed so the exporter takes the model as written. */
  adjustments: z
    .object({
      /** Modules whose inference fast path (fused eval kernels) was off during export. */
      fastPathsOff: z.array(z.string()),
      fastPathsHow: z.string().nullable(),
      /** Operators exported with the toolkit's own ONNX symbolic (this torch has none). */
      symbolics: z.array(z.string()),
      /** Why `auto` left the dynamo exporter for the TorchScript one, when it did. */
      fallbackFrom: z.string().optional(),
    })
    .optional(),
  checks: z.array(z.string()),
  inputs: z.array(z.object({ name: z.string(), shape: z.array(z.union([z.int(), z.string()])) })),
  outputs: z.array(z.object({ name: z.string(), shape: z.array(z.union([z.int(), z.string()])) })),
  versions: z.object({ torch: z.string(), onnx: z.string() }),
  durationMs: z.number(),
});

// ---------------------------------------------------------------- build (step 3)

/**
 * `build`: one engine at one precision for one backend. For backend `tensorrt` the toolkit only
 * prepares what trtexec builds from at `int8` (the GPU worker runs trtexec itself): the QDQ ONNX,
 * calibrated on the manifest's data (the result's `engine` and `quantization.quantizedOnnx`); other
 * tensorrt precisions need no toolkit step and are refused as bad input.
 */
export const BuildRequestSchema = z.object({
  repoDir: z.string(),
  manifest: manifestField,
  onnxPath: z.string(),
  backend,
  precision,
  outDir: z.string(),
});
/** The INT8 levers the build chose (also stamped into the QDQ model, and echoed by parity). */
export const QuantizationLeversSchema = z.object({
  calibration: z.enum(['MinMax', 'Percentile', 'Entropy']),
  perChannel: z.boolean(),
  /** Nodes left unquantized (they run in float). */
  keptInFloat: z.array(z.string()),
  reason: z.string(),
  /** Whether the chosen levers met the int8 tolerance on the search's evaluation samples. */
  passedSearch: z.boolean(),
  evaluation: z.object({ source: z.string(), samples: z.int() }),
  trials: z.array(
    z.object({
      calibration: z.string(),
      perChannel: z.boolean(),
      keptInFloat: z.array(z.string()),
      reason: z.string(),
      passed: z.boolean(),
      failed: z.array(z.string()),
      maxAbs: z.record(z.string(), z.number()),
      top1: z.number().optional(),
    }),
  ),
});

/** Result of `build`. */
export const BuildResultSchema = z.object({
  engine: FileDigestSchema,
  backend,
  precision,
  quantization: z
    .object({
      method: z.string(),
      symmetric: z.boolean(),
      calibrationSamples: z.int(),
      activationType: z.string(),
      weightType: z.string(),
      /** `float`: biases stay float (the form TensorRT's parser accepts). Absent in results before TensorRT ran. */
      biases: z.string().optional(),
      /** Q/DQ node counts and zero-point types of the written model, checked against TensorRT's rules. */
      qdq: z
        .object({ quantizeLinear: z.int(), dequantizeLinear: z.int(), zeroPointTypes: z.record(z.string(), z.int()) })
        .optional(),
      quantizedOnnx: FileDigestSchema,
      /** The levers the INT8 search chose, why, and every candidate it tried. */
      levers: QuantizationLeversSchema.optional(),
    })
    .optional(),
  log: FileDigestSchema,
  versions: z.record(z.string(), z.string()),
  durationMs: z.number(),
});

// ---------------------------------------------------------------- parity (step 4)

/** Where the PyTorch reference of parity runs: `auto` is CUDA when torch sees a GPU, else CPU. */
const referenceDevice = z.enum(['auto', 'cpu', 'cuda']);

/**
 * `parity`: PyTorch reference vs the engine on ≥ 1000 samples. For `tensorrt` the engine runs
 * with TensorRTRunner and the reference on the same GPU (CUDA_VISIBLE_DEVICES picks it).
 */
export const ParityRequestSchema = z.object({
  repoDir: z.string(),
  manifest: manifestField,
  checkpointPath: z.string(),
  enginePath: z.string(),
  backend,
  precision,
  /** Default `auto`; `cuda` fails with BadInput when torch sees no GPU; tensorrt needs CUDA. */
  referenceDevice: referenceDevice.optional(),
});
const agreement = z.object({ agree: z.int(), n: z.int(), rate: z.number(), wilsonLower: z.number() });
const elementStats = z.object({ maxAbs: z.number(), meanAbs: z.number(), p99Abs: z.number(), rmse: z.number() });
/** Result of `parity` (written as parity.json). */
export const ParityReportSchema = z.object({
  backend,
  precision,
  samples: z.int(),
  data: z.object({ kind: z.enum(['random', 'dataset']), seed: z.int(), path: z.string().optional() }),
  shapes: z.array(z.record(z.string(), z.array(z.int()))),
  /** The samples run at each shape (the dataset's, then min/opt/max/mid of every dynamic dim) and their statistics. */
  byShape: z
    .array(z.object({ shape: z.record(z.string(), z.array(z.int())), samples: z.int(), maxAbs: z.number(), meanAbs: z.number(), top1: z.number().optional() }))
    .optional(),
  stats: z.object({
    /** Element statistics of the worst output; `outputs` holds each output's own. */
    maxAbs: z.number(),
    meanAbs: z.number(),
    p99Abs: z.number(),
    rmse: z.number(),
    outputs: z.record(z.string(), elementStats).optional(),
    /** Per output, the absolute errors counted in half-decade bins (`counts[i]` below `edges[i]`, the last bin above every edge). */
    histograms: z.record(z.string(), z.object({ edges: z.array(z.number()), counts: z.array(z.int()) })).optional(),
    top1: agreement.optional(),
    top5: agreement.optional(),
    referenceAccuracy: z.number().optional(),
    engineAccuracy: z.number().optional(),
    /** Regression with labels: the reference's and the engine's error against them. */
    labels: z
      .object({ samples: z.int(), referenceRmse: z.number(), engineRmse: z.number(), referenceMae: z.number(), engineMae: z.number() })
      .optional(),
  }),
  nonFinite: z.object({ reference: z.int(), engine: z.int() }),
  tolerance: z.record(z.string(), z.number()),
  /** int8 from a QDQ model: the levers its build chose (read from the model). */
  quantization: QuantizationLeversSchema.optional(),
  /** Per-output tolerances that override the shared ones for that output. */
  outputTolerances: z.record(z.string(), z.record(z.string(), z.number())).optional(),
  checks: z.array(CheckSchema),
  /** For each tolerance, the loosest value that would still have failed is just past this one. */
  smallestPassingTolerance: z.record(z.string(), z.number()),
  verdict,
  /** Where each side ran: the PyTorch reference's device (`cpu`, `cuda:0`) and GPU name. */
  devices: z.object({ reference: z.string(), referenceGpu: z.string().nullable().optional(), engine: z.string() }).optional(),
  durationMs: z.number(),
});
/** The parity report. */
export type ParityReport = z.infer<typeof ParityReportSchema>;

// ---------------------------------------------------------------- bench (step 5)

/** `bench`: warm-up, then timed runs per shape. */
export const BenchRequestSchema = z.object({
  manifest: manifestField,
  enginePath: z.string(),
  backend,
  precision,
});
const latency = z.object({ p50: z.number(), p95: z.number(), p99: z.number(), mean: z.number(), min: z.number(), max: z.number() });
/** Result of `bench` (written as bench.json). */
export const BenchReportSchema = z.object({
  backend,
  precision,
  warmup: z.int(),
  iterations: z.int(),
  shapes: z.array(
    z.object({
      shape: z.record(z.string(), z.array(z.int())),
      batch: z.int(),
      latencyMs: latency,
      throughputPerSec: z.number(),
    }),
  ),
  peakMemoryBytes: z.int(),
  threads: z.int(),
  host: z.object({ cpu: z.string(), cores: z.int() }),
  /** TensorRT benchmarks (trtexec on the GPU worker): the GPU and where peak memory was read. */
  gpu: z
    .object({
      name: z.string(),
      index: z.int().nonnegative(),
      peakMemoryBytes: z.int().nullable(),
      /** `nvml` (per-process or device reading while trtexec ran) or `trtexec-log` (`[MemUsageChange]`). */
      memorySource: z.enum(['nvml', 'trtexec-log']).nullable(),
      tensorrt: z.string(),
    })
    .optional(),
  durationMs: z.number(),
});
/** The benchmark report. */
export type BenchReport = z.infer<typeof BenchReportSchema>;

// ---------------------------------------------------------------- doctor

/** `doctor`: what this host has. */
export const DoctorRequestSchema = z.object({});
/** Result of `doctor`. */
export const DoctorResultSchema = z.object({
  host: z.object({ hostname: z.string(), os: z.string(), cpu: z.string(), cores: z.int(), memoryBytes: z.int() }),
  python: z.string(),
  versions: z.record(z.string(), z.string().nullable()),
  cuda: z.object({
    available: z.boolean(),
    version: z.string().nullable(),
    driver: z.string().nullable(),
    devices: z.array(
      z.object({
        index: z.int(),
        name: z.string(),
        computeCapability: z.string(),
        arch: z.string(),
        memoryBytes: z.int(),
        freeBytes: z.int().nullable(),
      }),
    ),
  }),
  onnxruntimeProviders: z.array(z.string()),
  /** TensorRT as Python sees it (`import tensorrt`), and whether NVML (pynvml) can be read. */
  tensorrt: z.object({ version: z.string().nullable(), nvml: z.boolean() }).optional(),
});

// ---------------------------------------------------------------- errors and progress

/** What the toolkit writes as the result on exit code 2 (or any crash it could catch). */
export const ToolkitErrorResultSchema = z.object({
  error: z.object({ type: z.string(), message: z.string(), field: z.string().optional(), hint: z.string().optional() }),
});

/** One progress line the toolkit prints on stdout. */
export const ProgressEventSchema = z.object({
  event: z.literal('progress'),
  step: z.string(),
  message: z.string().optional(),
  done: z.number().optional(),
  total: z.number().optional(),
});
/** One progress line. */
export type ProgressEvent = z.infer<typeof ProgressEventSchema>;

/** Every toolkit command with its request and result schema. */
export const TOOLKIT_COMMANDS = {
  data: { request: DataRequestSchema, result: DataResultSchema },
  inspect: { request: InspectRequestSchema, result: InspectResultSchema },
  export: { request: ExportRequestSchema, result: ExportResultSchema },
  build: { request: BuildRequestSchema, result: BuildResultSchema },
  parity: { request: ParityRequestSchema, result: ParityReportSchema },
  bench: { request: BenchRequestSchema, result: BenchReportSchema },
  doctor: { request: DoctorRequestSchema, result: DoctorResultSchema },
} as const;
/** A toolkit command name. */
export type ToolkitCommand = keyof typeof TOOLKIT_COMMANDS;
/** The request type of a command. */
export type ToolkitRequest<C extends ToolkitCommand> = z.input<(typeof TOOLKIT_COMMANDS)[C]['request']>;
/** The result type of a command. */
export type ToolkitResult<C extends ToolkitCommand> = z.infer<(typeof TOOLKIT_COMMANDS)[C]['result']>;
