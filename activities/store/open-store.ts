/**
 * Opens the artifact store named by a URI or path: `file:///…` or a plain path for a local folder,
 * `s3://bucket/prefix` for S3 (configured by the environment: see docs/artifact-store.md).
 *
 * @module
 */
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../lib/config.ts';
import { UserError } from '../../lib/errors.ts';
import type { ArtifactStore } from './artifact-store.ts';
import { FileArtifactStore } from './file-store.ts';
import { S3ArtifactStore } from './s3-store.ts';

/**
 * Opens a store from `MODELSHIP_ARTIFACTS`-style locations.
 *
 * @param location - `file:///path`, `/path`, `relative/path`, or `s3://bucket/prefix`
 */
export function openArtifactStore(location: string = loadConfig().artifacts): ArtifactStore {
  if (location.startsWith('file://')) return new FileArtifactStore(fileURLToPath(location));
  if (location.startsWith('s3://')) return new S3ArtifactStore(location);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(location)) {
    throw new UserError(`unsupported artifact store URI: ${location}`, 'use file:///path, a local path, or s3://bucket/prefix (MODELSHIP_ARTIFACTS)');
  }
  return new FileArtifactStore(location);
}
