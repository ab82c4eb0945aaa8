/**
 * Starts a release: reads and validates the manifest at the tag first (nothing starts when it is
 * wrong), then starts `release/<model>/<tag>` — or returns the release already running or done.
 *
 * @module
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { userInfo } from 'node:os';
import { WorkflowExecutionAlreadyStartedError, WorkflowFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure, ChildWorkflowFailure, WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import { ErrorType, UserError } from '../../lib/errors.ts';
import { readCommittedFile, withTaggedClone } from '../../activities/git.ts';
import { MANIFEST_FILE } from '../../activities/resolve.ts';
import { assertRepoLocation, assertTagName } from '../../lib/git-refs.ts';
import { parseManifest } from '../../lib/manifest.ts';
import { releaseWorkflowId, ReleaseStage, type ReleaseInput } from '../../lib/release.ts';
import { GitTagKey, ModelNameKey, ReleaseStageKey } from '../../lib/search-attributes.ts';
import { assertTargetsRunnable } from '../../lib/targets.ts';
import { CONTROL_QUEUE } from '../../lib/task-queues.ts';
import type { release } from '../../workflows/release.ts';
import { checkTaggedTree } from './tagged-tree-check.ts';

/** A started (or found) release. */
export interface StartedRelease {
  workflowId: string;
  model: string;
  /** False when the tag's release already existed and was returned instead. */
  started: boolean;
  handle: WorkflowHandle<typeof release>;
}

/** Options of {@link startRelease}. */
export interface StartReleaseOptions {
  /**
   * Start a new run of a release whose last run failed for a reason outside the tagged content
   * (same tag, same commit). Refused for a release that is running, completed, or failed a gate.
   */
  retry?: boolean;
  /**
   * Check the tagged tree before starting (files the manifest names are committed, data matches
   * the inputs). Default true; tests of the workflow's own refusals turn it off.
   */
  checkTree?: boolean;
}

/** Starts the release of a tag, once. */
export async function startRelease(client: Client, input: ReleaseInput, { checkTree = true, retry = false }: StartReleaseOptions = {}): Promise<StartedRelease> {
  // Checked before anything runs: a tag name (not a revision such as v1.0.0^0), a repository git
  // may clone without running commands, and no credentials that would be kept in the history.
  assertRepoLocation(input.repo);
  assertTagName(input.tag);
  const repo = existsSync(input.repo) ? resolve(input.repo) : input.repo;
  const source = `${MANIFEST_FILE} at ${input.tag}`;
  const { manifest, commit } = await withTaggedClone(repo, input.tag, async (dir, commit) => {
    const m = parseManifest(await readCommittedFile(dir, MANIFEST_FILE, { repo, tag: input.tag }), source);
    assertTargetsRunnable(m, source);
    if (checkTree) await checkTaggedTree(dir, m, source, input.tag);
    return { manifest: m, commit };
  });
  const workflowId = releaseWorkflowId(manifest.name, input.tag);
  const existing = client.workflow.getHandle<typeof release>(workflowId);
  const before = await existing.describe().catch(() => undefined);
  if (before) {
    const built = typeof before.memo?.commit === 'string' ? before.memo.commit : undefined;
    if (built && built !== commit) {
      throw new UserError(
        `tag ${input.tag} of ${manifest.name} now points to ${commit.slice(0, 12)}, but its release (${workflowId}) was made from ${built.slice(0, 12)}: a tag names one release, forever`,
        `tag the new commit with a new version (e.g. ${nextTag(input.tag)}) and release that`,
      );
    }
    if (!retry) return { workflowId, model: manifest.name, started: false, handle: existing };
    await assertRetryable(existing, before.status.name, workflowId);
  } else if (retry) {
    throw new UserError(`${workflowId} was never started: nothing to retry`, `start it: modelship release start --repo ${input.repo} --tag ${input.tag}`);
  }
  try {
    const handle = await client.workflow.start<typeof release>('release', {
      taskQueue: CONTROL_QUEUE,
      workflowId,
      args: [{ ...input, repo, requestedBy: input.requestedBy ?? userInfo().username }],
      // A retry may start a new run only where the last one failed; never over a success.
      workflowIdReusePolicy: retry ? WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY : WorkflowIdReusePolicy.REJECT_DUPLICATE,
      // FAIL, not USE_EXISTING: a start that lost a race (GitHub's push and create of one tag, two
      // people at once) must learn it did not start the release, and say "already exists".
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
      typedSearchAttributes: [
        { key: ModelNameKey, value: manifest.name },
        { key: GitTagKey, value: input.tag },
        { key: ReleaseStageKey, value: ReleaseStage.Resolving },
      ],
      memo: { summary: `${manifest.name} ${input.tag}: starting${retry ? ' (retry)' : ''}`, commit },
    });
    return { workflowId, model: manifest.name, started: true, handle };
  } catch (err) {
    // Another start won the race between our check and our start.
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    return { workflowId, model: manifest.name, started: false, handle: existing };
  }
}

/** Failure types that come from the tagged content: running it again gives the same answer. */
const CONTENT_FAILURES: ReadonlySet<string> = new Set([ErrorType.GateFailed, ErrorType.BadInput, 'ManifestError', 'UserError', 'UnsupportedQuantization', 'ExportFailed', 'OnnxCheckFailed']);

/**
 * A release may be retried for the same tag and commit only when its last run ended for a reason
 * outside the tagged content (a worker crash, a full disk, an outage, a timeout, a termination).
 */
async function assertRetryable(handle: WorkflowHandle<typeof release>, status: string, workflowId: string): Promise<void> {
  if (status === 'RUNNING') throw new UserError(`${workflowId} is still running: nothing to retry`, `watch it: modelship release status ${workflowId.split('/').slice(1).join(' ')}`);
  if (status === 'COMPLETED') {
    throw new UserError(`${workflowId} completed: a tag is released once`, 'a gate that said no is part of the result; fix the model and tag a new version');
  }
  if (status !== 'FAILED') return; // terminated, cancelled or timed out: outside the content
  const failure = await handle.result().then(() => undefined, (err: unknown) => err);
  let cause: unknown = failure instanceof WorkflowFailedError ? failure.cause : failure;
  while (cause instanceof ActivityFailure || cause instanceof ChildWorkflowFailure) cause = cause.cause;
  if (cause instanceof ApplicationFailure && cause.type && CONTENT_FAILURES.has(cause.type)) {
    throw new UserError(
      `${workflowId} failed because of the tagged content (${cause.type}: ${cause.message}); running it again would fail the same way`,
      'fix the model, manifest or data, commit, and tag a new version',
    );
  }
}

/** The patch version after `tag` (`v1.2.3` → `v1.2.4`), or `<tag>-2`. */
export function nextTag(tag: string): string {
  const m = /^(.*?)(\d+)$/.exec(tag);
  return m ? `${m[1]}${Number(m[2]) + 1}` : `${tag}-2`;
}
