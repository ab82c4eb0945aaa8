/**
 * Report evidence read from the artifact store: a package's files are found, with their checksums,
 * through its metadata.json (so every read is verified), another version's through the store's
 * own listing of its metadata.json.
 *
 * @module
 */
import type { ArtifactRef } from '../../lib/artifact-ref.ts';
import type { Precision } from '../../lib/manifest.ts';
import type { PackagedEngine } from '../../lib/release.ts';
import { packageKey } from '../keys.ts';
import type { ArtifactStore } from '../store/artifact-store.ts';
import type { ReportSources } from './report-data.ts';

/** Reads a verified JSON artifact. */
export type ReadJson = (ref: ArtifactRef) => Promise<unknown>;

/** A package's metadata.json: the checksums of its files. */
interface PackageMetadata {
  files?: Record<string, { sha256: string; bytes: number }>;
}

/** The metadata of `model` `version`'s package of `target`/`precision`, or undefined when there is none. */
export async function versionMetadataRef(store: ArtifactStore, model: string, version: string, target: string, precision: Precision): Promise<ArtifactRef | undefined> {
  const key = packageKey(model, version, target, precision, 'metadata.json');
  const found = await store.stat(key);
  return found?.sha256 ? { uri: store.uriFor(key), sha256: found.sha256, bytes: found.bytes } : undefined;
}

/** A file of a package, through its metadata (undefined when the package has no such file). */
export async function packageJson(store: ArtifactStore, json: ReadJson, metadata: ArtifactRef, prefix: string, file: string): Promise<unknown> {
  const f = ((await json(metadata)) as PackageMetadata).files?.[file];
  return f ? json({ uri: store.uriFor(`${prefix}/${file}`), sha256: f.sha256, bytes: f.bytes }) : undefined;
}

/** {@link ReportSources} over the store, for the release `model` `tag`. */
export function storeReportSources(store: ArtifactStore, json: ReadJson, model: string, tag: string): ReportSources {
  return {
    packageJson: (pkg: PackagedEngine, file) => packageJson(store, json, pkg.metadata, packageKey(model, tag, pkg.target, pkg.precision), file),
    versionBench: async (m, version, target, precision) => {
      const ref = await versionMetadataRef(store, m, version, target, precision);
      return ref ? packageJson(store, json, ref, packageKey(m, version, target, precision), 'bench.json') : undefined;
    },
  };
}
