/**
 * The local-folder artifact store (`file://`), the embedded default. Write-once by hard-linking a
 * fully written temporary file into place: the link fails if the key exists, so two workers racing
 * on the same key leave exactly one result and never a half-written file.
 *
 * @module
 */
import { copyFile, link, mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { randomUUID } from 'node:crypto';
import type { ArtifactRef } from '../../lib/artifact-ref.ts';
import { ArtifactConflictError, type ArtifactStore, type StoredObject, type TransferProgress } from './artifact-store.ts';
import { digestBytes, digestFile } from './hash.ts';
import { verifiedDownload } from './verified-download.ts';

/** An {@link ArtifactStore} on a local folder. */
export class FileArtifactStore implements ArtifactStore {
  readonly rootUri: string;
  private readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
    this.rootUri = pathToFileURL(this.root).href;
  }

  uriFor(key: string): string {
    return pathToFileURL(this.pathFor(key)).href;
  }

  /** The local path of a key (file stores only). */
  pathFor(key: string): string {
    const path = resolve(this.root, key);
    if (path !== this.root && !path.startsWith(this.root + sep)) throw new Error(`artifact key escapes the store: ${key}`);
    return path;
  }

  async putFile(key: string, localPath: string, onProgress?: TransferProgress): Promise<ArtifactRef> {
    const digest = await digestFile(localPath);
    return this.place(key, digest, async (tmp) => {
      await copyFile(localPath, tmp);
      onProgress?.(digest.bytes, digest.bytes);
    });
  }

  async putBytes(key: string, data: Uint8Array | string): Promise<ArtifactRef> {
    return this.place(key, digestBytes(data), (tmp) => writeFile(tmp, data));
  }

  async getFile(ref: ArtifactRef, localPath: string, onProgress?: TransferProgress): Promise<void> {
    const source = fileURLToPath(ref.uri);
    await verifiedDownload(ref, localPath, async (tmp) => {
      await copyFile(source, tmp);
      return digestFile(tmp);
    }, onProgress);
  }

  async stat(key: string): Promise<StoredObject | undefined> {
    try {
      const s = await stat(this.pathFor(key));
      return { key, bytes: s.size, sha256: (await digestFile(this.pathFor(key))).sha256 };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  async list(prefix: string): Promise<string[]> {
    const base = this.pathFor(prefix);
    const out: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw err;
      }
      for (const e of entries) {
        const p = join(dir, e.name);
        if (e.isDirectory()) await walk(p);
        else if (!e.name.endsWith('.part')) out.push(relative(this.root, p).split(sep).join('/'));
      }
    };
    await walk(base);
    return out.sort();
  }

  /** Writes through a temporary file, then links it into place unless the key exists. */
  private async place(key: string, digest: { sha256: string; bytes: number }, write: (tmp: string) => Promise<void>): Promise<ArtifactRef> {
    const target = this.pathFor(key);
    const ref: ArtifactRef = { uri: this.uriFor(key), ...digest };
    await mkdir(dirname(target), { recursive: true });
    const tmp = `${target}.${randomUUID()}.part`;
    try {
      await write(tmp);
      await link(tmp, target);
      return ref;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const existing = await digestFile(target);
      if (existing.sha256 === digest.sha256) return ref;
      throw new ArtifactConflictError(ref.uri, existing.sha256, digest.sha256);
    } finally {
      await rm(tmp, { force: true });
    }
  }
}
