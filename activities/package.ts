/**
 * Step 6: the release package of each engine — engine, model.onnx, checkpoint, source snapshot,
 * reports, logs and `metadata.json` with the sha256 of every file — written once to the store.
 *
 * @module
 */
import { readFile } from 'node:fs/promises';
import type { ArtifactRef } from '../lib/artifact-ref.ts';
import { PackageMetadataSchema } from '../lib/package-metadata.ts';
import type { EngineResult, ExportedModel, PackagedEngine, ResolvedSource } from '../lib/release.ts';
import type { ActivityDeps } from './deps.ts';
import { engineFileName } from './engine-file.ts';
import { withFailures } from './failures.ts';
import { packageKey, releaseIndexKey } from './keys.ts';
import { compatibilityLock } from './tensorrt/compat.ts';

/** Input of the package step. */
export interface PackageInput {
  releaseId: string;
  source: ResolvedSource;
  exported: ExportedModel;
  engines: EngineResult[];
  /** When the workflow reached this step (workflow time, so a retry writes identical metadata). */
  createdAt: string;
  requestedBy?: string;
}

/** Builds the package activity. */
export function createPackageActivities({ workspace }: ActivityDeps) {
  const readJson = async (ref: ArtifactRef): Promise<Record<string, unknown>> => JSON.parse(await readFile(await workspace.fetch(ref), 'utf8'));

  return {
    /** Writes one package per engine and the release index; returns where they are. */
    async packageRelease(input: PackageInput): Promise<PackagedEngine[]> {
      return withFailures(async () => {
        const { source, exported } = input;
        const exportReport = await readJson(exported.report);
        const packaged: PackagedEngine[] = [];
        for (const e of input.engines) {
          const key = (file?: string) => packageKey(source.model, source.tag, e.target, e.precision, file);
          const files: Record<string, ArtifactRef> = {
            [engineFileName(e.backend, e.precision)]: e.engine,
            'model.onnx': exported.onnx,
            'model_best.pt': source.checkpoint,
            'source.tar': source.source,
            'export.json': exported.report,
            'build.json': e.buildReport,
            'build.log': e.buildLog,
            'parity.json': e.parity,
            ...(e.bench ? { 'bench.json': e.bench } : {}),
          };
          for (const [name, ref] of Object.entries(files)) {
            await workspace.store.putFile(key(name), await workspace.fetch(ref));
          }
          const buildReport = await readJson(e.buildReport);
          const parity = await readJson(e.parity);
          const bench = e.bench ? await readJson(e.bench) : undefined;
          // Parsed with the contract before it is written: a package never describes itself wrongly.
          const metadata = PackageMetadataSchema.parse(buildMetadata(input, e, files, { exportReport, buildReport, parity, bench }));
          const metadataRef = await workspace.store.putBytes(key('metadata.json'), `${JSON.stringify(metadata, null, 2)}\n`);
          packaged.push({ target: e.target, precision: e.precision, uri: workspace.store.uriFor(key()), metadata: metadataRef });
        }
        const index = {
          release: input.releaseId,
          model: source.model,
          tag: source.tag,
          commit: source.commit,
          created: input.createdAt,
          packages: packaged,
        };
        await workspace.store.putBytes(releaseIndexKey(source.model, source.tag), `${JSON.stringify(index, null, 2)}\n`);
        return packaged;
      });
    },
  };
}

/** The profile (min/opt/max shape) of every input, from the manifest. */
function profiles(source: ResolvedSource): Record<string, { min: number[]; opt: number[]; max: number[] }> {
  return Object.fromEntries(
    source.manifest.inputs.map((input) => {
      const pick = (k: 'min' | 'opt' | 'max') => input.dims.map((d) => (typeof d === 'number' ? d : d[k]));
      return [input.name, { min: pick('min'), opt: pick('opt'), max: pick('max') }];
    }),
  );
}

/** metadata.json: the seed's fields, and what a person needs to trust or roll back this engine. */
function buildMetadata(
  input: PackageInput,
  e: EngineResult,
  files: Record<string, ArtifactRef>,
  reports: { exportReport: Record<string, unknown>; buildReport: Record<string, unknown>; parity: Record<string, unknown>; bench?: Record<string, unknown> },
) {
  const { source, exported } = input;
  const exportVersions = (reports.exportReport.versions ?? {}) as Record<string, string>;
  const buildVersions = (reports.buildReport.versions ?? {}) as Record<string, string>;
  const benchHost = (reports.bench?.host ?? {}) as Record<string, unknown>;
  const parityStats = (reports.parity.stats ?? {}) as Record<string, unknown>;
  return {
    schema: 'modelship/metadata/v1',
    model_id: `${source.model}@${source.commit.slice(0, 12)}`,
    name: source.model,
    version: source.tag,
    target: e.target,
    backend: e.backend,
    precision: e.precision,
    onnx_opset: exported.opsetWritten,
    exporter: exported.exporter,
    profile: profiles(source),
    runtime: { ...exportVersions, ...buildVersions },
    git: { commit: source.commit, tag: source.tag },
    created: input.createdAt,
    requested_by: input.requestedBy ?? null,
    host: { worker: e.workerId, cpu: benchHost.cpu ?? null, cores: benchHost.cores ?? null, gpu: (reports.buildReport.gpu as unknown) ?? null },
    // TensorRT engines load only under the TensorRT release and on the GPU architecture that built
    // them: the serving runtime and the rollout's fleet check read this lock.
    ...(e.backend === 'tensorrt' ? { compatibility: compatibilityLock(reports.buildReport) } : {}),
    engine: engineFileName(e.backend, e.precision),
    onnx: 'model.onnx',
    checkpoint: 'model_best.pt',
    source: 'source.tar',
    manifest: source.manifest,
    acceptance: source.checks,
    parity: { verdict: reports.parity.verdict, samples: reports.parity.samples, stats: parityStats },
    files: Object.fromEntries(Object.entries(files).map(([name, ref]) => [name, { sha256: ref.sha256, bytes: ref.bytes }])),
  };
}
