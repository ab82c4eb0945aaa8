/**
 * Starts a release: reads and validates the manifest at the tag first (nothing starts when it is
 * wrong), then starts `release/<model>/<tag>` — or returns the release already running or done.
 *
 * @module
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { userInfo } from 'node:os';
import { WorkflowExecutionAlreadyStartedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import { readFileAtTag } from '../../activities/git.ts';
import { MANIFEST_FILE } from '../../activities/resolve.ts';
import { assertRepoLocation, assertTagName } from '../../lib/git-refs.ts';
import { parseManifest } from '../../lib/manifest.ts';
import { releaseWorkflowId, ReleaseStage, type ReleaseInput } from '../../lib/release.ts';
import { GitTagKey, ModelNameKey, ReleaseStageKey } from '../../lib/search-attributes.ts';
import { assertTargetsRunnable } from '../../lib/targets.ts';
import { CONTROL_QUEUE } from '../../lib/task-queues.ts';
import type { release } from '../../workflows/release.ts';

/** A started (or found) release. */
export interface StartedRelease {
  workflowId: string;
  model: string;
  /** False when the tag's release already existed and was returned instead. */
  started: boolean;
  handle: WorkflowHandle<typeof release>;
}

/** Starts the release of a tag, once. */
export async function startRelease(client: Client, input: ReleaseInput): Promise<StartedRelease> {
  // Checked before anything runs: a tag name (not a revision such as v1.0.0^0), a repository git
  // may clone without running commands, and no credentials that would be kept in the history.
  assertRepoLocation(input.repo);
  assertTagName(input.tag);
  const repo = existsSync(input.repo) ? resolve(input.repo) : input.repo;
  const source = `${MANIFEST_FILE} at ${input.tag}`;
  const manifest = parseManifest(await readFileAtTag(repo, input.tag, MANIFEST_FILE), source);
  assertTargetsRunnable(manifest, source);
  const workflowId = releaseWorkflowId(manifest.name, input.tag);
  const existing = client.workflow.getHandle<typeof release>(workflowId);
  if (await existing.describe().then(() => true, () => false)) {
    return { workflowId, model: manifest.name, started: false, handle: existing };
  }
  try {
    const handle = await client.workflow.start<typeof release>('release', {
      taskQueue: CONTROL_QUEUE,
      workflowId,
      args: [{ ...input, repo, requestedBy: input.requestedBy ?? userInfo().username }],
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
      typedSearchAttributes: [
        { key: ModelNameKey, value: manifest.name },
        { key: GitTagKey, value: input.tag },
        { key: ReleaseStageKey, value: ReleaseStage.Resolving },
      ],
      memo: { summary: `${manifest.name} ${input.tag}: starting` },
    });
    return { workflowId, model: manifest.name, started: true, handle };
  } catch (err) {
    // Another start won the race between our check and our start.
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    return { workflowId, model: manifest.name, started: false, handle: existing };
  }
}
