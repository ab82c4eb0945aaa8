/**
 * The release manifest (`modelship.yaml` at the root of a model repository): its zod schema, the
 * cross-field rules, and the loader that turns YAML text into a validated {@link Manifest} or a
 * {@link ManifestError} naming every field that is wrong.
 *
 * @module
 */
import { z } from 'zod';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { ManifestError, type FieldIssue } from './errors.ts';
import { formatFieldPath } from './field-path.ts';
import { PersonNameSchema } from './person-name.ts';
import { AnalysisThresholdsSchema, DEFAULT_ANALYSIS_THRESHOLDS } from './analysis/schemas.ts';

/** Backends a target may name. */
export const Backend = { OnnxruntimeCpu: 'onnxruntime-cpu', TensorRT: 'tensorrt' } as const;
/** A backend name. */
export type Backend = (typeof Backend)[keyof typeof Backend];

/** Numeric precisions an engine can be built at. */
export const Precision = { FP32: 'fp32', FP16: 'fp16', BF16: 'bf16', INT8: 'int8' } as const;
/** A precision name. */
export type Precision = (typeof Precision)[keyof typeof Precision];

/** Precisions each backend can build. */
export const PRECISIONS_BY_BACKEND: Readonly<Record<Backend, readonly Precision[]>> = {
  'onnxruntime-cpu': ['fp32', 'int8'],
  tensorrt: ['fp32', 'fp16', 'bf16', 'int8'],
};

const identifier = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_.:-]*$/, 'expected a name of letters, digits, "_", ".", ":" or "-"');

/** A duration in Temporal's string form: `500ms`, `30s`, `10m`, `2h`, `1d`. */
/**
 * A path inside the model repository: relative, no `..` component, no control characters. Paths
 * that leave the repository (`../secrets`, `/etc/passwd`, `file:///...`) are refused.
 */
const repoPath = z
  .string()
  .min(1)
  .max(500)
  // eslint-disable-next-line no-control-regex -- control characters are refused
  .refine((p) => !/[\x00-\x1f\x7f]/.test(p), 'expected no control characters')
  .refine((p) => !p.startsWith('/') && !/^[a-z][a-z0-9+.-]*:/i.test(p) && !/^[A-Za-z]:[\\/]/.test(p), 'expected a path relative to the repository root, not an absolute path or URL')
  .refine((p) => !p.split(/[\\/]/).includes('..'), 'expected a path inside the repository (no "..")');

/** A JSON value a manifest may carry in `model.init`: finite numbers, no cycles, bounded depth. */
function plainValueProblem(value: unknown, depth = 0, seen = new Set<unknown>()): string | null {
  if (depth > 32) return 'nested more than 32 levels';
  if (typeof value === 'number') return Number.isFinite(value) ? null : `${value} is not a finite number`;
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return null;
  if (typeof value !== 'object') return `unsupported value of type ${typeof value}`;
  if (seen.has(value)) return 'refers to itself (a YAML alias cycle)';
  seen.add(value);
  for (const v of Array.isArray(value) ? value : Object.values(value as object)) {
    const p = plainValueProblem(v, depth + 1, seen);
    if (p) return p;
  }
  seen.delete(value);
  return null;
}

export const DurationString = z
  .string()
  .regex(/^\d+(ms|s|m|h|d)$/, 'expected a duration such as "30s", "10m", "2h" or "1d"');

const dynamicDim = z
  .object({
    name: identifier,
    min: z.int().positive(),
    opt: z.int().positive(),
    max: z.int().positive(),
  })
  .strict()
  .superRefine((d, ctx) => {
    if (d.opt < d.min) ctx.addIssue({ code: 'custom', path: ['opt'], message: `opt ${d.opt} is below min ${d.min}` });
    if (d.max < d.opt) ctx.addIssue({ code: 'custom', path: ['max'], message: `max ${d.max} is below opt ${d.opt}` });
  });
/** One dimension of an input: a fixed size, or a named dynamic range. */
export type InputDim = number | z.infer<typeof dynamicDim>;

const tensorDtype = z.enum(['float32', 'float16', 'int64', 'int32', 'uint8', 'bool']);

const inputSpec = z
  .object({
    name: identifier,
    dtype: tensorDtype.default('float32'),
    /** Fixed sizes, named dynamic ranges, or the name of a dynamic dim another input defines. */
    dims: z.array(z.union([z.int().positive(), dynamicDim, identifier])).min(1),
  })
  .strict();

const outputSpec = z
  .object({
    name: identifier,
    dtype: tensorDtype.default('float32'),
    /** Fixed sizes, or the name of an input's dynamic dim. */
    dims: z.array(z.union([z.int().positive(), identifier])).min(1),
  })
  .strict();

/** `metric op threshold`, e.g. `val_accuracy >= 0.95`. */
export const ACCEPTANCE_PATTERN = /^\s*([A-Za-z_][A-Za-z0-9_.]*)\s*(>=|<=|>|<|==)\s*(-?\d+(?:\.\d+)?(?:[eE]-?\d+)?)\s*$/;

const acceptanceCriterion = z
  .string()
  .regex(ACCEPTANCE_PATTERN, 'expected "<metric> <op> <number>" with op one of >=, <=, >, <, ==, e.g. "val_accuracy >= 0.95"');

const elementTolerance = z
  .object({
    maxAbs: z.number().positive().optional(),
    meanAbs: z.number().positive().optional(),
    p99Abs: z.number().positive().optional(),
    maxRmse: z.number().positive().optional(),
  })
  .strict();

/**
 * A precision's parity tolerance. Element tolerances (maxAbs, meanAbs, p99Abs, maxRmse) hold for
 * every output separately, and `outputs.<name>` overrides them for one output; the agreement
 * tolerances apply to outputs[0] (the logits).
 */
const tolerance = elementTolerance
  .extend({
    minTop1Agreement: z.number().min(0).max(1).optional(),
    minTop5Agreement: z.number().min(0).max(1).optional(),
    outputs: z.record(identifier, elementTolerance.refine((t) => Object.keys(t).length > 0, 'expected at least one of maxAbs, meanAbs, p99Abs, maxRmse')).optional(),
  })
  .strict()
  .refine((t) => Object.keys(t).length > 0, 'expected at least one tolerance (maxAbs, meanAbs, p99Abs, minTop1Agreement, ...)');

const npzSource = z
  .object({
    /** Path of a `.npz` file in the model repository. */
    path: repoPath,
    /** Array name in the file holding each input, by input name. Defaults to the input's own name. */
    arrays: z.record(z.string(), z.string()).optional(),
    /** Array name holding labels, for live accuracy. */
    labels: z.string().optional(),
  })
  .strict();

const paritySpec = z
  .object({
    samples: z.int().min(1000, 'parity needs at least 1000 samples (the seed\'s checklist)').max(1_000_000).default(1000),
    seed: z.int().nonnegative().max(2 ** 32 - 1).default(0),
    batchSize: z.int().positive().max(4096).default(64),
    data: z.discriminatedUnion('kind', [
      z.object({ kind: z.literal('random'), distribution: z.enum(['normal', 'uniform']).default('normal') }).strict(),
      npzSource.extend({ kind: z.literal('dataset') }).strict(),
    ]),
    tolerances: z.partialRecord(z.enum(['fp32', 'fp16', 'bf16', 'int8']), tolerance),
  })
  .strict();

const benchmarkSpec = z
  .object({
    /** Shapes to time, each a map from input name to its full shape. Defaults to min, opt and max. */
    shapes: z.array(z.record(z.string(), z.array(z.int().positive()).min(1))).optional(),
    warmup: z.int().nonnegative().max(100_000).default(10),
    iterations: z.int().positive().max(1_000_000).default(100),
    /** TensorRT: time each shape for at least this many seconds too (`trtexec --duration`); default trtexec's 3. */
    minSeconds: z.int().min(1).max(600).optional(),
  })
  .strict();

const targetSpec = z
  .object({
    name: identifier,
    backend: z.enum(['onnxruntime-cpu', 'tensorrt']),
    /** The precisions to build; may be left out when `ladder` lists them. */
    precisions: z.array(z.enum(['fp32', 'fp16', 'bf16', 'int8'])).min(1).optional(),
    /** GPU architecture (e.g. `sm90`), for GPU backends. */
    gpu: z.string().regex(/^sm\d{2,3}$/, 'expected a compute architecture such as "sm90"').optional(),
    /** Task queue override; defaults to the queue named by backend and architecture. */
    taskQueue: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._@:-]{0,199}$/, 'expected a task queue name of letters, digits and . _ @ : - (no spaces or newlines)')
      .optional(),
    /**
     * Precision ladder: the target's precisions in order of preference, e.g. `[int8, fp16, fp32]`.
     * The target delivers ONE engine: the first precision whose parity passes; each one that fails
     * parity is recorded and the next is tried. Lists exactly the target's `precisions`.
     */
    ladder: z.array(z.enum(['fp32', 'fp16', 'bf16', 'int8'])).min(1).optional(),
    /** TensorRT builder workspace limit in MiB (`--memPoolSize=workspace:<N>M`); default TensorRT's. */
    workspaceMiB: z.int().positive().max(1 << 20).optional(),
  })
  .strict();

const canaryStep = z
  .object({
    weight: z.number().gt(0).max(100),
    bake: DurationString,
  })
  .strict();

const rolloutSpec = z
  .object({
    approvers: z.array(PersonNameSchema).min(1).max(100),
    /** Which package goes to production; default the first target's first precision. */
    serve: z.object({ target: identifier, precision: z.enum(['fp32', 'fp16', 'bf16', 'int8']) }).strict().optional(),
    shadow: z
      .object({
        duration: DurationString.default('2m'),
        sampleShare: z.number().gt(0).max(1).default(1),
        minRequests: z.int().nonnegative().default(100),
      })
      .strict()
      .optional(),
    canary: z.array(canaryStep).min(1),
    /**
     * The longest a shadow or canary step may bake while its traffic is too little to judge
     * (each extension waits one analysis interval); then the rollout rolls back, saying how many
     * requests were missing. Default: the step's bake plus 10 analysis intervals.
     */
    maxBake: DurationString.optional(),
    // The analysis thresholds (lib/analysis/schemas.ts) and how often the analysis runs.
    analysis: AnalysisThresholdsSchema.omit({ confidence: true })
      .extend({ interval: DurationString.default('30s') })
      .strict()
      .default({ interval: '30s', ...DEFAULT_ANALYSIS_THRESHOLDS }),
    approvalTimeout: z
      .object({ after: DurationString, action: z.enum(['rollback', 'escalate']) })
      .strict()
      .default({ after: '24h', action: 'rollback' }),
  })
  .strict()
  .superRefine((r, ctx) => {
    r.canary.forEach((step, i) => {
      const prev = r.canary[i - 1];
      if (prev && step.weight <= prev.weight) {
        ctx.addIssue({
          code: 'custom',
          path: ['canary', i, 'weight'],
          message: `weight ${step.weight} must be above the previous step's ${prev.weight}`,
        });
      }
    });
    const last = r.canary[r.canary.length - 1];
    if (last && last.weight !== 100) {
      ctx.addIssue({ code: 'custom', path: ['canary', r.canary.length - 1, 'weight'], message: `the last canary step must reach 100, not ${last.weight}` });
    }
  });

/** The zod schema of `modelship.yaml`, before cross-field rules. */
export const ManifestSchema = z
  .object({
    apiVersion: z.literal('modelship/v1'),
    name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'expected lowercase letters, digits and "-" (it is part of the workflow ID)'),
    model: z
      .object({
        entrypoint: z
          .string()
          .regex(/^[A-Za-z_][\w.]*:[A-Za-z_]\w*$/, 'expected "python.module:ClassName", e.g. "model_def:SmallCNN"'),
        init: z
          .record(z.string(), z.unknown())
          .superRefine((init, ctx) => {
            const problem = plainValueProblem(init);
            if (problem) ctx.addIssue({ code: 'custom', message: `expected plain YAML values (numbers, strings, lists, mappings): ${problem}` });
          })
          .default({}),
        /** Folder (relative to the repository root) put on PYTHONPATH. */
        pythonPath: repoPath.default('.'),
      })
      .strict(),
    artifact: z
      .object({
        checkpoint: repoPath,
        metrics: repoPath,
        acceptance: z.array(acceptanceCriterion).default([]),
      })
      .strict(),
    inputs: z.array(inputSpec).min(1),
    outputs: z.array(outputSpec).min(1),
    task: z.discriminatedUnion('kind', [
      z.object({ kind: z.literal('classification'), topK: z.array(z.int().positive()).default([1, 5]) }).strict(),
      z.object({ kind: z.literal('regression') }).strict(),
    ]),
    export: z
      .object({
        opset: z.int().min(17, 'opset must be 17 or newer').max(23).default(17),
        exporter: z.enum(['auto', 'torchscript', 'dynamo']).default('auto'),
      })
      .strict()
      .default({ opset: 17, exporter: 'auto' }),
    calibration: npzSource.extend({ samples: z.int().positive().max(100_000).default(256) }).strict().optional(),
    targets: z.array(targetSpec).min(1),
    parity: paritySpec,
    benchmark: benchmarkSpec.default({ warmup: 10, iterations: 100 }),
    rollout: rolloutSpec.optional(),
  })
  .strict()
  .superRefine((m, ctx) => {
    const inputNames = new Set<string>();
    const dimNames = new Map<string, z.infer<typeof dynamicDim>>();
    m.inputs.forEach((input, i) => {
      if (inputNames.has(input.name)) ctx.addIssue({ code: 'custom', path: ['inputs', i, 'name'], message: `duplicate input name "${input.name}"` });
      inputNames.add(input.name);
      input.dims.forEach((d, j) => {
        if (typeof d !== 'object') return;
        const earlier = dimNames.get(d.name);
        if (earlier && (earlier.min !== d.min || earlier.opt !== d.opt || earlier.max !== d.max)) {
          ctx.addIssue({
            code: 'custom',
            path: ['inputs', i, 'dims', j],
            message: `dim "${d.name}" is defined twice with different ranges (${earlier.min}/${earlier.opt}/${earlier.max} and ${d.min}/${d.opt}/${d.max}); define it once and refer to it by name elsewhere`,
          });
        }
        dimNames.set(d.name, d);
      });
    });
    const unknownDim = (d: string): string =>
      `"${d}" is not a dynamic dim defined by any input (defined: ${[...dimNames.keys()].join(', ') || 'none'}); define it once as { name: ${d}, min, opt, max } and refer to it by name elsewhere`;
    m.inputs.forEach((input, i) =>
      input.dims.forEach((d, j) => {
        if (typeof d === 'string' && !dimNames.has(d)) ctx.addIssue({ code: 'custom', path: ['inputs', i, 'dims', j], message: unknownDim(d) });
      }),
    );
    m.outputs.forEach((output, i) =>
      output.dims.forEach((d, j) => {
        if (typeof d === 'string' && !dimNames.has(d)) ctx.addIssue({ code: 'custom', path: ['outputs', i, 'dims', j], message: unknownDim(d) });
      }),
    );
    const targetNames = new Set<string>();
    const precisionsUsed = new Set<string>();
    m.targets.forEach((written, i) => {
      if (!written.precisions && !written.ladder) {
        ctx.addIssue({ code: 'custom', path: ['targets', i, 'precisions'], message: 'expected the precisions to build, e.g. precisions: [fp32, int8] (or a ladder: [int8, fp32])' });
      }
      const t = { ...written, precisions: written.precisions ?? written.ladder ?? [] };
      if (targetNames.has(t.name)) ctx.addIssue({ code: 'custom', path: ['targets', i, 'name'], message: `duplicate target name "${t.name}"` });
      targetNames.add(t.name);
      t.precisions.forEach((p, j) => {
        precisionsUsed.add(p);
        if (!PRECISIONS_BY_BACKEND[t.backend].includes(p)) {
          ctx.addIssue({
            code: 'custom',
            path: ['targets', i, 'precisions', j],
            message: `${t.backend} cannot build ${p} (it builds ${PRECISIONS_BY_BACKEND[t.backend].join(', ')})`,
          });
        }
      });
      if (t.backend === 'tensorrt' && !t.gpu) {
        ctx.addIssue({ code: 'custom', path: ['targets', i, 'gpu'], message: 'a tensorrt target must name its GPU architecture, e.g. gpu: sm90' });
      }
      if (t.workspaceMiB !== undefined && t.backend !== 'tensorrt') {
        ctx.addIssue({ code: 'custom', path: ['targets', i, 'workspaceMiB'], message: `workspaceMiB is a TensorRT builder setting; ${t.backend} has none` });
      }
      if (t.ladder) {
        const seen = new Set<string>();
        t.ladder.forEach((p, j) => {
          if (seen.has(p)) ctx.addIssue({ code: 'custom', path: ['targets', i, 'ladder', j], message: `${p} is on the ladder twice` });
          seen.add(p);
          if (!t.precisions.includes(p)) {
            ctx.addIssue({ code: 'custom', path: ['targets', i, 'ladder', j], message: `${p} is on the ladder but not in precisions [${t.precisions.join(', ')}]` });
          }
        });
        const off = t.precisions.filter((p) => !seen.has(p));
        if (off.length) {
          ctx.addIssue({
            code: 'custom',
            path: ['targets', i, 'ladder'],
            message: `the ladder must order every precision of the target; missing ${off.join(', ')} (or drop them from precisions)`,
          });
        }
      }
    });
    if (precisionsUsed.has('int8') && !m.calibration) {
      ctx.addIssue({ code: 'custom', path: ['calibration'], message: 'an int8 target needs calibration data: calibration: { path: data/calib.npz }' });
    }
    const outputNames = new Set(m.outputs.map((o) => o.name));
    for (const [p, tol] of Object.entries(m.parity.tolerances)) {
      for (const name of Object.keys(tol?.outputs ?? {})) {
        if (!outputNames.has(name)) {
          ctx.addIssue({ code: 'custom', path: ['parity', 'tolerances', p, 'outputs', name], message: `no output named "${name}" (outputs: ${[...outputNames].join(', ')})` });
        }
      }
    }
    for (const p of precisionsUsed) {
      if (!m.parity.tolerances[p as Precision]) {
        ctx.addIssue({ code: 'custom', path: ['parity', 'tolerances', p], message: `a target builds ${p}, so parity needs a tolerance for it` });
      }
    }
    if (m.task.kind === 'classification') {
      for (const k of m.task.topK) {
        const classes = m.outputs[0]?.dims.at(-1);
        if (typeof classes === 'number' && k > classes) {
          ctx.addIssue({ code: 'custom', path: ['task', 'topK'], message: `top-${k} needs at least ${k} classes; outputs[0] has ${classes}` });
        }
      }
    }
    const serve = m.rollout?.serve;
    if (serve && !m.targets.some((t) => t.name === serve.target && (t.precisions ?? t.ladder ?? []).includes(serve.precision))) {
      ctx.addIssue({ code: 'custom', path: ['rollout', 'serve'], message: `no target "${serve.target}" builds ${serve.precision}` });
    }
    m.benchmark.shapes?.forEach((shape, i) => {
      for (const name of Object.keys(shape)) {
        const input = m.inputs.find((x) => x.name === name);
        if (!input) {
          ctx.addIssue({ code: 'custom', path: ['benchmark', 'shapes', i, name], message: `no input named "${name}"` });
          continue;
        }
        const dims = shape[name] ?? [];
        if (dims.length !== input.dims.length) {
          ctx.addIssue({ code: 'custom', path: ['benchmark', 'shapes', i, name], message: `expected ${input.dims.length} dims, got ${dims.length}` });
          continue;
        }
        dims.forEach((size, j) => {
          const written = input.dims[j];
          const d = typeof written === 'string' ? dimNames.get(written) : written;
          if (d === undefined) return; // an unknown name, reported above
          const ok = typeof d === 'number' ? size === d : size >= d.min && size <= d.max;
          if (!ok) {
            const range = typeof d === 'number' ? `${d}` : `${d.min}..${d.max}`;
            ctx.addIssue({ code: 'custom', path: ['benchmark', 'shapes', i, name, j], message: `${size} is outside ${range}` });
          }
        });
      }
    });
  });

/** A manifest as written, validated, before named input dims are resolved. */
type ParsedManifest = z.infer<typeof ManifestSchema>;
/** An input whose every dim is a fixed size or a full dynamic range (named references resolved). */
type ResolvedInput = Omit<ParsedManifest['inputs'][number], 'dims'> & { dims: InputDim[] };
/** A target whose precisions are listed (from its ladder when the manifest left them out). */
type ResolvedTarget = Omit<ParsedManifest['targets'][number], 'precisions'> & { precisions: Precision[] };
/**
 * A validated manifest, with defaults filled in and every input dim written by name (`[batch, 4]`)
 * replaced by the dynamic range it names: code past the loader sees numbers and ranges only.
 */
export type Manifest = Omit<ParsedManifest, 'inputs' | 'targets'> & { inputs: ResolvedInput[]; targets: ResolvedTarget[] };

/**
 * Replaces each input dim given by name with the dynamic range an input defines under that name,
 * and fills a target's precisions from its ladder when only the ladder is written.
 */
function resolveManifest(m: ParsedManifest): Manifest {
  const defined = new Map<string, InputDim>();
  for (const input of m.inputs) for (const d of input.dims) if (typeof d === 'object') defined.set(d.name, d);
  // The schema's rules guarantee every name is defined.
  return {
    ...m,
    inputs: m.inputs.map((input) => ({ ...input, dims: input.dims.map((d) => (typeof d === 'string' ? defined.get(d)! : d)) })),
    targets: m.targets.map((t) => ({ ...t, precisions: t.precisions ?? t.ladder ?? [] })),
  };
}
/** An input of the manifest. */
export type InputSpec = Manifest['inputs'][number];
/** A target of the manifest. */
export type TargetSpec = Manifest['targets'][number];
/** The rollout plan of the manifest. */
export type RolloutSpec = NonNullable<Manifest['rollout']>;

/** Converts zod issues into field issues with dotted/indexed paths. */
export function toFieldIssues(error: z.ZodError): FieldIssue[] {
  return error.issues.map((issue) => ({ field: formatFieldPath(issue.path), message: issue.message }));
}

/**
 * Validates an already-parsed manifest object.
 *
 * @param source - file name used in error messages
 * @throws {@link ManifestError} listing every wrong field
 */
export function validateManifest(value: unknown, source = 'modelship.yaml'): Manifest {
  const result = ManifestSchema.safeParse(value);
  if (!result.success) throw new ManifestError(source, toFieldIssues(result.error));
  return resolveManifest(result.data);
}

/**
 * Parses and validates manifest YAML text.
 *
 * @param source - file name used in error messages
 * @throws {@link ManifestError} on YAML syntax errors and on every wrong field
 */
export function parseManifest(text: string, source = 'modelship.yaml'): Manifest {
  let value: unknown;
  try {
    value = parseYaml(text, { prettyErrors: true });
  } catch (err) {
    const where = err instanceof YAMLParseError && err.linePos ? `line ${err.linePos[0].line}` : '(yaml)';
    throw new ManifestError(source, [{ field: where, message: err instanceof Error ? err.message.split('\n')[0]! : String(err) }]);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ManifestError(source, [{ field: '(root)', message: 'expected a YAML mapping with apiVersion, name, model, ...' }]);
  }
  return validateManifest(value, source);
}

/** A parsed acceptance criterion. */
export interface AcceptanceCriterion {
  metric: string;
  op: '>=' | '<=' | '>' | '<' | '==';
  threshold: number;
}

/** Splits `val_accuracy >= 0.95` into its parts. The manifest schema guarantees the form. */
export function parseAcceptance(criterion: string): AcceptanceCriterion {
  const m = ACCEPTANCE_PATTERN.exec(criterion);
  if (!m) throw new Error(`not an acceptance criterion: ${criterion}`);
  return { metric: m[1]!, op: m[2] as AcceptanceCriterion['op'], threshold: Number(m[3]) };
}
