/**
 * A worker's local disk: a content-addressed cache of fetched artifacts and one scratch folder per
 * release. Fetching the same reference twice reads the cache; a retried activity finds its inputs.
 *
 * @module
 */
import { access, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import type { ArtifactRef } from '../lib/artifact-ref.ts';
import type { ArtifactStore, TransferProgress } from './store/artifact-store.ts';
import { digestFile } from './store/hash.ts';

/** A worker's local folders. */
export class Workspace {
  constructor(
    readonly root: string,
    readonly store: ArtifactStore,
  ) {}

  /** The scratch folder of a release (created). */
  async releaseDir(releaseId: string, ...parts: string[]): Promise<string> {
    const dir = join(this.root, 'work', releaseId.replace(/[^A-Za-z0-9._-]+/g, '_'), ...parts);
    await mkdir(dir, { recursive: true });
    return dir;
  }

  /** Where request/result files of toolkit calls go. */
  get scratchDir(): string {
    return join(this.root, 'tmp');
  }

  /** A local, verified copy of an artifact, fetched once per content. */
  async fetch(ref: ArtifactRef, onProgress?: TransferProgress): Promise<string> {
    const path = join(this.root, 'cache', ref.sha256.slice(0, 2), ref.sha256);
    if (await exists(path)) return path;
    await this.store.getFile(ref, path, onProgress);
    return path;
  }

  /**
   * Stores an intermediate file under `prefix/<sha256 prefix>/name`: content-addressed, so a retried
   * step that produces different bytes adds a sibling instead of conflicting.
   */
  async keep(prefix: string, name: string, localPath: string, onProgress?: TransferProgress): Promise<ArtifactRef> {
    const { sha256 } = await digestFile(localPath);
    return this.store.putFile(`${prefix}/${sha256.slice(0, 16)}/${name}`, localPath, onProgress);
  }

  /**
   * Unpacks a source snapshot (tar) into a folder once; a marker file says it is complete, so an
   * interrupted unpack is redone rather than used.
   */
  async unpackSource(ref: ArtifactRef, releaseId: string): Promise<string> {
    const dir = await this.releaseDir(releaseId, `source-${ref.sha256.slice(0, 12)}`);
    const marker = join(dir, '.modelship-unpacked');
    if (await exists(marker)) return dir;
    const tar = await this.fetch(ref);
    const staging = `${dir}.staging`;
    await rm(staging, { recursive: true, force: true });
    await mkdir(staging, { recursive: true });
    await execa('tar', ['-xf', tar, '-C', staging]);
    await writeFile(join(staging, '.modelship-unpacked'), ref.sha256);
    await rm(dir, { recursive: true, force: true });
    await rename(staging, dir);
    return dir;
  }
}

/** Writes `value` as pretty JSON to `dir/name`; returns the path. */
export async function writeJson(dir: string, name: string, value: unknown): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, `${JSON.stringify(value, null, 2)}\n`);
  return path;
}

/** True when `path` exists. */
export async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
