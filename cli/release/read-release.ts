/**
 * What the read-only release commands (`report`, `diff`) share: a release's status whether it
 * runs or has ended, and verified JSON from the artifact store.
 *
 * @module
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { ArtifactRef } from '../../lib/artifact-ref.ts';
import { UserError } from '../../lib/errors.ts';
import { releaseWorkflowId, statusQuery, type ReleaseStatus } from '../../lib/release.ts';
import type { ArtifactStore } from '../../activities/store/artifact-store.ts';
import { cliCommand } from '../self-command.ts';

/** The status of `model`'s release of `tag`: its result once completed, else what it answers now. */
export async function readReleaseStatus(client: Client, model: string, tag: string): Promise<ReleaseStatus> {
  const handle = client.workflow.getHandle(releaseWorkflowId(model, tag));
  const description = await handle.describe().catch((err: unknown) => {
    if (err instanceof WorkflowNotFoundError) {
      throw new UserError(`no release ${releaseWorkflowId(model, tag)}`, `list the releases: ${cliCommand()} release list --model ${model}`);
    }
    throw err;
  });
  if (description.status.name === 'COMPLETED') return (await handle.result()) as ReleaseStatus;
  return handle.query(statusQuery);
}

/** Reads a text artifact through the store (checksum verified). */
export async function readStoredText(store: ArtifactStore, ref: ArtifactRef): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'modelship-read-'));
  try {
    await store.getFile(ref, join(dir, 'file'));
    return await readFile(join(dir, 'file'), 'utf8');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Reads a JSON artifact through the store (checksum verified). */
export function storeJsonReader(store: ArtifactStore): (ref: ArtifactRef) => Promise<unknown> {
  return async (ref) => JSON.parse(await readStoredText(store, ref));
}
