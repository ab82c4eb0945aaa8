/**
 * `modelship release list`: releases from Temporal's visibility store, newest first, filtered by
 * model and stage (the search attributes every release carries).
 *
 * @module
 */
import type { Command } from 'commander';
import type { Client } from '@temporalio/client';
import { UserError } from '../../lib/errors.ts';
import { ReleaseStage } from '../../lib/release.ts';
import { RolloutPhase } from '../../lib/rollout.ts';
import { GitTagKey, ModelNameKey, ReleaseStageKey } from '../../lib/search-attributes.ts';
import { connectClient, temporalTarget } from '../connection.ts';

/** Every value ReleaseStage takes (the release's stages and the rollout's phases). */
export const RELEASE_STAGES: readonly string[] = [...new Set([...Object.values(ReleaseStage), ...Object.values(RolloutPhase)])];

/** Filters of `release list`. */
export interface ListFilters {
  model?: string;
  stage?: string;
}

/**
 * The visibility query for the filters. Values are checked, not escaped: a model name is the
 * manifest's (letters, digits, `._-`), a stage one of {@link RELEASE_STAGES}.
 *
 * @throws {@link UserError} naming `--model` or `--stage`
 */
export function listQuery({ model, stage }: ListFilters): string {
  const parts = [`WorkflowType = 'release'`];
  if (model !== undefined) {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(model)) throw new UserError(`--model ${JSON.stringify(model.slice(0, 60))} is not a model name`, 'use the name in the manifest, e.g. --model digits');
    parts.push(`${ModelNameKey.name} = '${model}'`);
  }
  if (stage !== undefined) {
    if (!RELEASE_STAGES.includes(stage)) throw new UserError(`--stage ${JSON.stringify(stage.slice(0, 60))} is not a stage`, `one of: ${RELEASE_STAGES.join(', ')}`);
    // The rollout child carries the rollout's phases; the release carries its own stage.
    if (!(Object.values(ReleaseStage) as string[]).includes(stage)) parts[0] = `WorkflowType = 'rollout'`;
    parts.push(`${ReleaseStageKey.name} = '${stage}'`);
  }
  return parts.join(' AND ');
}

/** One row of the list. */
export interface ListedRelease {
  workflowId: string;
  model: string;
  tag: string;
  stage: string;
  status: string;
  started: Date;
}

/** The releases matching the filters, newest first, at most `limit`. */
export async function listReleases(client: Client, filters: ListFilters, limit = 50): Promise<ListedRelease[]> {
  const out: ListedRelease[] = [];
  for await (const wf of client.workflow.list({ query: listQuery(filters) })) {
    out.push({
      workflowId: wf.workflowId,
      model: wf.typedSearchAttributes.get(ModelNameKey) ?? '?',
      tag: wf.typedSearchAttributes.get(GitTagKey) ?? '?',
      stage: wf.typedSearchAttributes.get(ReleaseStageKey) ?? '?',
      status: wf.status.name,
      started: wf.startTime,
    });
    if (out.length >= limit) break;
  }
  return out;
}

/** The rows as an aligned text table. */
export function formatReleaseTable(rows: ListedRelease[]): string {
  const head = ['MODEL', 'TAG', 'STAGE', 'WORKFLOW', 'STARTED', 'ID'];
  const cells = rows.map((r) => [r.model, r.tag, r.stage, r.status.toLowerCase(), r.started.toISOString().replace('T', ' ').slice(0, 19), r.workflowId]);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  return [head, ...cells].map((c) => c.map((v, i) => v.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

/** Adds `release list`. */
export function registerListCommand(release: Command, program: Command): void {
  release
    .command('list')
    .description('list releases (newest first) from Temporal visibility, by model and stage')
    .option('--model <name>', 'only this model')
    .option('--stage <stage>', `only releases at this stage (${RELEASE_STAGES.join(', ')})`)
    .option('--limit <n>', 'at most this many (default 50)', (v) => Number(v), 50)
    .option('--json', 'print JSON')
    .action(async (opts: { model?: string; stage?: string; limit: number; json?: boolean }) => {
      if (!Number.isInteger(opts.limit) || opts.limit < 1) throw new UserError(`--limit ${opts.limit} is not a positive whole number`);
      const query = listQuery(opts);
      const client = await connectClient(temporalTarget(program.opts()));
      const rows = await listReleases(client, opts, opts.limit);
      if (opts.json) console.log(JSON.stringify(rows, null, 2));
      else console.log(rows.length ? formatReleaseTable(rows) : `no releases match ${query}`);
    });
}
