/**
 * The serving runtime's admin API replies, defined once: the rollout's client parses every reply
 * with these (a runtime that answers something else is named, not trusted), and the runtime's own
 * tests check its replies against the JSON Schemas generated from them
 * (toolkit/modelship_toolkit/schemas/admin.*.json).
 *
 * @module
 */
import { z } from 'zod';

const percent = z.number().min(0).max(100);

/** One loaded variant as the runtime describes it. */
export const RuntimeVariantSchema = z.looseObject({
  version: z.string(),
  modelId: z.string(),
  /** The engine it runs on here (`onnxruntime`, `tensorrt`, `pytorch` when it fell back). */
  backend: z.string(),
  /** The backend the package was built for. */
  packageBackend: z.string(),
  precision: z.string(),
  fallback: z.boolean(),
  fallbackReason: z.string().nullable().optional(),
  sha256: z.string(),
  package: z.string(),
  maxBatchSize: z.int().positive().optional(),
  maxBatchSizeFrom: z.string().optional(),
});
/** One loaded variant. */
export type RuntimeVariant = z.infer<typeof RuntimeVariantSchema>;

/** Traffic weights of a model, in percent. */
export const RuntimeWeightsSchema = z.looseObject({ candidate: percent, stable: percent, shadow: percent });

/** `GET /admin/state?model=…`. */
export const RuntimeStateSchema = z.looseObject({
  model: z.string().nullable(),
  variants: z.looseObject({
    stable: RuntimeVariantSchema.optional(),
    candidate: RuntimeVariantSchema.optional(),
    shadow: RuntimeVariantSchema.optional(),
    previous: RuntimeVariantSchema.optional(),
  }),
  weights: RuntimeWeightsSchema,
});
/** A model's variants and weights. */
export type RuntimeState = z.infer<typeof RuntimeStateSchema>;

/** `POST /admin/promote`: the candidate's version is now stable; the old stable is kept as previous. */
export const RuntimePromotedSchema = z.looseObject({ stable: z.string(), previous: z.string().nullable() });

/** `POST /admin/rollback`: what serves now, and the versions taken out. */
export const RuntimeRolledBackSchema = z.looseObject({ stable: z.string().nullable(), unloaded: z.array(z.string()) });

/** `POST /admin/load`: the variant now loaded, with its role and model. */
export const RuntimeLoadedSchema = RuntimeVariantSchema.extend({ loaded: z.enum(['stable', 'candidate', 'shadow']), model: z.string() });

/**
 * `POST /admin/fits` with a package's metadata.json: whether this serving host can run it. The
 * compatibility-lock rule (TensorRT release, GPU architecture, hardware compatibility) lives in the
 * runtime (serve/package.py), which applies it again when it loads the package; the rollout asks
 * rather than re-implementing it.
 */
export const RuntimeFitSchema = z.looseObject({
  host: z.string(),
  fits: z.boolean(),
  /** Why it does not fit, naming the engine's and this host's architecture and TensorRT. */
  reason: z.string().nullable(),
  /** The metadata.json field at fault. */
  field: z.string().nullable(),
  tensorrt: z.string().nullable(),
  arch: z.string().nullable(),
});
/** One host's answer to the fleet check. */
export type RuntimeFit = z.infer<typeof RuntimeFitSchema>;
