/**
 * metadata.json, the package's description, defined once. Two schemas: what every reader needs
 * ({@link PackageMetadataCoreSchema} — the serving runtime checks a package against its JSON Schema
 * before its own integrity checks), and what modelship writes ({@link PackageMetadataSchema}, the
 * core and the evidence a person reads — the package step parses what it writes with it).
 *
 * @module
 */
import { z } from 'zod';
import { UserError } from './errors.ts';
import { formatFieldPath } from './field-path.ts';
import { Backend, Precision } from './manifest.ts';

/** One listed file: its digest (and size). */
export const PackageFileSchema = z.looseObject({
  sha256: z.string().regex(/^[0-9a-fA-F]{64}$/, 'expected the file\'s hex sha256'),
  bytes: z.int().nonnegative().optional(),
});

/** What every reader of a package needs (unknown fields are kept: newer writers may add some). */
export const PackageMetadataCoreSchema = z.looseObject({
  name: z.string().min(1),
  version: z.string().min(1),
  /** Checked against the backends the reader serves by the reader itself. */
  backend: z.string().min(1),
  precision: z.string().min(1),
  /** The release manifest (resolved); the reader checks the parts it uses. */
  manifest: z.record(z.string(), z.unknown()),
  /** Every file of the package, relative to its folder, with its digest. */
  files: z.record(z.string(), PackageFileSchema),
  engine: z.string().min(1).optional(),
  checkpoint: z.string().min(1).optional(),
  source: z.string().min(1).optional(),
  /** TensorRT packages: the lock (checked by the reader against its host). */
  compatibility: z.unknown().optional(),
});

/** What a TensorRT build locks its engine to (metadata.json `compatibility`). */
export const CompatibilityLockSchema = z.object({
  /** `10.16.1` */
  tensorrt: z.string(),
  cuda: z.string().nullable(),
  driver: z.string().nullable(),
  /** `9.0` */
  computeCapability: z.string(),
  /** `sm90` */
  arch: z.string(),
  /** `none` (this architecture only) or `ampere+` (any compute capability ≥ 8.0). */
  hardwareCompatibility: z.string(),
});

/** metadata.json as the package step writes it. */
export const PackageMetadataSchema = PackageMetadataCoreSchema.extend({
  schema: z.literal('modelship/metadata/v1'),
  model_id: z.string(),
  target: z.string(),
  backend: z.enum(Object.values(Backend)),
  precision: z.enum(Object.values(Precision)),
  onnx_opset: z.int(),
  exporter: z.string(),
  profile: z.record(z.string(), z.object({ min: z.array(z.int()), opt: z.array(z.int()), max: z.array(z.int()) })),
  runtime: z.record(z.string(), z.string()),
  git: z.object({ commit: z.string(), tag: z.string() }),
  created: z.string(),
  requested_by: z.string().nullable(),
  host: z.object({ worker: z.string(), cpu: z.unknown(), cores: z.unknown(), gpu: z.unknown() }),
  compatibility: CompatibilityLockSchema.nullable().optional(),
  engine: z.string(),
  onnx: z.string(),
  checkpoint: z.string(),
  source: z.string(),
  acceptance: z.array(z.unknown()),
  parity: z.object({ verdict: z.unknown(), samples: z.unknown(), stats: z.record(z.string(), z.unknown()) }),
  files: z.record(z.string(), PackageFileSchema.extend({ bytes: z.int().nonnegative() })),
});
/** metadata.json as written. */
export type PackageMetadata = z.infer<typeof PackageMetadataSchema>;

/**
 * Reads a package's metadata.json with the core schema; throws a {@link UserError} naming the field.
 * `source` names the file in the message.
 */
export function parsePackageMetadataCore(raw: unknown, source = 'metadata.json'): z.infer<typeof PackageMetadataCoreSchema> {
  const r = PackageMetadataCoreSchema.safeParse(raw);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  throw new UserError(`${source} ${formatFieldPath(issue.path) || '(document)'}: ${issue.message}`, 'a package is described by the metadata.json modelship wrote for it; this one was changed or not written by modelship');
}
