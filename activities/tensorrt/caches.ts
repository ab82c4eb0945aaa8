/**
 * The two caches a GPU worker keeps in the artifact store, shared by every worker:
 *
 * - engine cache: `engine-cache/<arch>/trt<version>/<key>/{engine.plan, build.log, layers.json, build.json}`,
 *   key = {@link engineCacheKey}; `build.json` is written last and names the engine's sha256, so an
 *   entry counts only when complete and consistent.
 * - timing cache: `timing-cache/<arch>/trt<version>/<stamp>-<sha12>.cache`, one write-once file per
 *   content; a build starts from the newest and stores what it ends with when that changed.
 *
 * @module
 */
import { copyFile, readFile } from 'node:fs/promises';
import type { ArtifactRef } from '../../lib/artifact-ref.ts';
import { formatTensorRTVersion, type TensorRTVersion } from '../../lib/trtexec/index.ts';
import { ArtifactConflictError, type ArtifactStore } from '../store/artifact-store.ts';
import { digestFile } from '../store/hash.ts';
import type { Workspace } from '../workspace.ts';

/** `10.16.1` (no build number: engines of one release are interchangeable). */
function trtDir(v: TensorRTVersion): string {
  return `trt${formatTensorRTVersion({ major: v.major, minor: v.minor, patch: v.patch })}`;
}

/** Key prefix of an engine-cache entry. */
export function engineCachePrefix(arch: string, version: TensorRTVersion, key: string): string {
  return ['engine-cache', arch, trtDir(version), key].join('/');
}

/** Key prefix of an architecture's timing caches. */
export function timingCachePrefix(arch: string, version: TensorRTVersion): string {
  return ['timing-cache', arch, trtDir(version)].join('/');
}

async function refOf(store: ArtifactStore, key: string): Promise<ArtifactRef | undefined> {
  const s = await store.stat(key);
  return s?.sha256 ? { uri: store.uriFor(key), sha256: s.sha256, bytes: s.bytes } : undefined;
}

/** A complete engine-cache entry. */
export interface CachedEngine {
  engine: ArtifactRef;
  buildLog: ArtifactRef;
  buildJson: ArtifactRef;
  layers?: ArtifactRef;
  /** The build.json of the build that filled the entry. */
  report: Record<string, unknown>;
}

/** The entry under `prefix`, when complete and consistent; otherwise `undefined` (a miss). */
export async function lookupEngine(workspace: Workspace, prefix: string): Promise<CachedEngine | undefined> {
  const store = workspace.store;
  const buildJson = await refOf(store, `${prefix}/build.json`);
  if (!buildJson) return undefined;
  const [engine, buildLog, layers] = await Promise.all([refOf(store, `${prefix}/engine.plan`), refOf(store, `${prefix}/build.log`), refOf(store, `${prefix}/layers.json`)]);
  if (!engine || !buildLog) return undefined;
  const report = JSON.parse(await readFile(await workspace.fetch(buildJson), 'utf8')) as Record<string, unknown>;
  const recorded = (report.engine as { sha256?: string } | undefined)?.sha256;
  if (recorded !== engine.sha256) return undefined;
  return { engine, buildLog, buildJson, layers, report };
}

/** Stores write-once; a key already holding other bytes keeps them (another worker was first). */
async function putOnce(store: ArtifactStore, key: string, path: string): Promise<ArtifactRef> {
  try {
    return await store.putFile(key, path);
  } catch (err) {
    if (!(err instanceof ArtifactConflictError)) throw err;
    const existing = await refOf(store, key);
    if (!existing) throw err;
    return existing;
  }
}

/**
 * Fills an entry. When another worker filled it first (its engine differs), that entry wins and is
 * returned, so every reader sees one engine per key.
 */
export async function storeEngine(
  workspace: Workspace,
  prefix: string,
  files: { engine: string; buildLog: string; layers?: string; buildJson: (engine: ArtifactRef) => Promise<string> },
): Promise<CachedEngine> {
  const store = workspace.store;
  const engine = await putOnce(store, `${prefix}/engine.plan`, files.engine);
  const buildLog = await putOnce(store, `${prefix}/build.log`, files.buildLog);
  const layers = files.layers ? await putOnce(store, `${prefix}/layers.json`, files.layers) : undefined;
  const buildJson = await putOnce(store, `${prefix}/build.json`, await files.buildJson(engine));
  const entry = await lookupEngine(workspace, prefix);
  if (entry) return entry;
  return { engine, buildLog, buildJson, layers, report: JSON.parse(await readFile(await workspace.fetch(buildJson), 'utf8')) as Record<string, unknown> };
}

/**
 * Copies the newest stored timing cache to `localPath` (trtexec reads and rewrites it there).
 *
 * @returns the sha256 it started from, or `undefined` when there was none
 */
export async function fetchTimingCache(workspace: Workspace, arch: string, version: TensorRTVersion, localPath: string): Promise<string | undefined> {
  const keys = (await workspace.store.list(timingCachePrefix(arch, version))).filter((k) => k.endsWith('.cache')).sort();
  for (const key of keys.reverse()) {
    const ref = await refOf(workspace.store, key);
    if (!ref) continue;
    await copyFile(await workspace.fetch(ref), localPath);
    return ref.sha256;
  }
  return undefined;
}

/** Stores the timing cache trtexec left at `localPath`, when it exists and changed. */
export async function storeTimingCache(
  workspace: Workspace,
  arch: string,
  version: TensorRTVersion,
  localPath: string,
  startedFrom: string | undefined,
  now: Date = new Date(),
): Promise<ArtifactRef | undefined> {
  let sha256: string;
  try {
    ({ sha256 } = await digestFile(localPath));
  } catch {
    return undefined;
  }
  if (sha256 === startedFrom) return undefined;
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return putOnce(workspace.store, `${timingCachePrefix(arch, version)}/${stamp}-${sha256.slice(0, 12)}.cache`, localPath);
}
