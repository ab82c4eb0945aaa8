/**
 * Step 1: resolve the tag, validate the manifest, digest and load the checkpoint, gate on metrics.
 *
 * @module
 */
import { readFile, rm } from 'node:fs/promises';
import { isAbsolute, join, resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApplicationFailure } from '@temporalio/common';
import { ErrorType, UserError } from '../lib/errors.ts';
import { redactCredentials } from '../lib/git-refs.ts';
import { parseManifest } from '../lib/manifest.ts';
import { assertTargetsRunnable } from '../lib/targets.ts';
import type { ReleaseInput, ResolvedSource } from '../lib/release.ts';
import type { ActivityDeps } from './deps.ts';
import { toolkitCallOptions, withFailures } from './failures.ts';
import { archiveCommit, checkoutTag } from './git.ts';
import { runKey } from './keys.ts';
import { runToolkit, ToolkitGateFailure } from './toolkit.ts';

/** The manifest's file name at the repository root. */
export const MANIFEST_FILE = 'modelship.yaml';

/** Builds the resolve activity. */
export function createResolveActivities({ workspace, toolkit }: ActivityDeps) {
  return {
    /**
     * Clones the repository at the tag, validates `modelship.yaml`, checks the checkpoint and the
     * metrics gate, and stores the source snapshot and checkpoint by reference.
     */
    async resolveSource(input: ReleaseInput & { releaseId: string }): Promise<ResolvedSource> {
      return withFailures(async () => {
        const repoDir = await workspace.releaseDir(input.releaseId, 'checkout');
        await rm(repoDir, { recursive: true, force: true });
        const commit = await checkoutTag(input.repo, input.tag, repoDir);
        const manifestPath = join(repoDir, MANIFEST_FILE);
        const manifestText = await readFile(manifestPath, 'utf8').catch(() => {
          throw new UserError(`${MANIFEST_FILE} is missing at the root of ${redactCredentials(input.repo)} at ${input.tag}`, 'see examples/digits/modelship.yaml');
        });
        const manifest = parseManifest(manifestText, `${MANIFEST_FILE} at ${input.tag}`);
        assertTargetsRunnable(manifest, `${MANIFEST_FILE} at ${input.tag}`);
        const checkpointPath = localArtifactPath(repoDir, manifest.artifact.checkpoint, 'artifact.checkpoint');
        const metricsPath = localArtifactPath(repoDir, manifest.artifact.metrics, 'artifact.metrics');

        let report;
        try {
          report = await runToolkit(
            toolkit,
            'inspect',
            { repoDir, manifest, checkpointPath, metricsPath },
            toolkitCallOptions('resolve'),
          );
        } catch (err) {
          if (!(err instanceof ToolkitGateFailure)) throw err;
          const failed = err.report.checks.filter((c: { passed: boolean }) => !c.passed);
          throw ApplicationFailure.create({
            type: ErrorType.GateFailed,
            nonRetryable: true,
            message: `metrics gate: ${failed.map((c: { name: string; statistic: number | null; op: string; threshold: number }) => `${c.name} = ${c.statistic ?? 'missing'} is not ${c.op} ${c.threshold}`).join('; ')}`,
            details: [{ gate: 'metrics', checks: err.report.checks, metrics: err.report.metrics }],
          });
        }

        const tarPath = join(await workspace.releaseDir(input.releaseId), `source-${commit}.tar`);
        await archiveCommit(repoDir, commit, tarPath);
        const prefix = runKey(manifest.name, input.tag, commit.slice(0, 12));
        const source = await workspace.keep(prefix, 'source.tar', tarPath);
        const checkpoint = await workspace.keep(prefix, 'model_best.pt', checkpointPath);
        return { model: manifest.name, tag: input.tag, commit, manifest, source, checkpoint, metrics: report.metrics, checks: report.checks };
      });
    },
  };
}

/**
 * A manifest path as a local file: relative to the repository (never outside it), `file://`, or
 * absolute.
 */
function localArtifactPath(repoDir: string, location: string, field: string): string {
  if (location.startsWith('file://')) return fileURLToPath(location);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(location)) {
    throw new UserError(`${field}: ${location} is not reachable from the resolve step`, 'use a path inside the repository or a file:// URI');
  }
  if (isAbsolute(location)) return location;
  const path = resolvePath(repoDir, location);
  if (!path.startsWith(repoDir)) throw new UserError(`${field}: ${location} points outside the repository`);
  return path;
}
