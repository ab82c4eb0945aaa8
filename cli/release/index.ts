/**
 * `modelship release start|retry|status`.
 *
 * @module
 */
import type { Command } from 'commander';
import { statusQuery } from '../../lib/release.ts';
import { rolloutStatusQuery, rolloutWorkflowId } from '../../lib/rollout.ts';
import { releaseWorkflowId } from '../../lib/release.ts';
import { connectClient, temporalTarget, workflowUiUrl } from '../connection.ts';
import { registerDecisionCommands } from './decide.ts';
import { registerDiffCommand } from './diff.ts';
import { registerListCommand } from './list.ts';
import { registerReportCommand } from './report.ts';
import { printStatus } from './print-status.ts';
import { startRelease, type StartedRelease } from './start-release.ts';
import { watchRelease } from './watch.ts';

/** Follows a release until it ends, printing each step, then its packages or why it failed. */
async function followToTheEnd(client: Awaited<ReturnType<typeof connectClient>>, handle: StartedRelease['handle']): Promise<void> {
  await watchRelease(client, handle, { print: (line) => console.log(`  ${line}`) });
  const outcome = await handle.result().then(
    (status) => ({ ok: true as const, status }),
    (err: Error) => ({ ok: false as const, err }),
  );
  if (outcome.ok) {
    console.log(`${outcome.status.model} ${outcome.status.tag}: ${outcome.status.stage}`);
    for (const p of outcome.status.packages) console.log(`  ${p.target}-${p.precision}: ${p.uri}`);
    return;
  }
  const status = await handle.query(statusQuery).catch(() => undefined);
  console.error(`release failed${status?.failure ? ` at ${status.failure.step} (${status.failure.type}): ${status.failure.message}` : `: ${outcome.err.message}`}`);
  process.exitCode = 1;
}

/** Adds the `release` commands. */
export function registerReleaseCommands(program: Command): void {
  const release = program.command('release').description('start and follow releases');

  for (const retry of [false, true]) {
    release
      .command(retry ? 'retry' : 'start')
      .description(
        retry
          ? 'start a new run of a release whose last run failed for a reason outside the tagged content (a worker crash, a full disk, an outage): same tag, same commit'
          : 'start the release of a git tag (once per tag: a second start returns the first)',
      )
      .requiredOption('--repo <path|url>', 'model repository (local path or git URL) with modelship.yaml at its root')
      .requiredOption('--tag <tag>', 'git tag to release')
      .option('--wait', 'follow the release and print each step until it ends')
      .option('--no-rollout', 'stop at "packaged" even when the manifest has a rollout plan')
      .option('--worker-wait <seconds>', 'seconds a target queue may have no worker before the release fails (default 300)', (v) => Number(v))
      .action(async (opts: { repo: string; tag: string; wait?: boolean; workerWait?: number; rollout: boolean }) => {
        const target = temporalTarget(program.opts());
        const client = await connectClient(target);
        const r = await startRelease(client, { repo: opts.repo, tag: opts.tag, noWorkerTimeoutSeconds: opts.workerWait, rollout: opts.rollout }, { retry });
        console.log(`${r.started ? (retry ? 'retried' : 'started') : 'already exists'}: ${r.workflowId}`);
        console.log(`UI: ${workflowUiUrl(r.workflowId, target.namespace)}`);
        if (opts.wait) await followToTheEnd(client, r.handle);
      });
  }

  release
    .command('status <model> <tag>')
    .description("show a release's stage and every step with timings and verdicts")
    .option('--json', 'print the status as JSON')
    .action(async (model: string, tag: string, opts: { json?: boolean }) => {
      const target = temporalTarget(program.opts());
      const client = await connectClient(target);
      const workflowId = releaseWorkflowId(model, tag);
      const handle = client.workflow.getHandle(workflowId);
      const [status, description] = await Promise.all([handle.query(statusQuery), handle.describe()]);
      // A running rollout answers for itself; a finished one left its status in the release's.
      const rollout = await client.workflow.getHandle(rolloutWorkflowId(workflowId)).query(rolloutStatusQuery).catch(() => status.rollout);
      if (opts.json) console.log(JSON.stringify({ ...status, rollout, workflowStatus: description.status.name }, null, 2));
      else printStatus({ ...status, rollout }, description.status.name, workflowUiUrl(workflowId, target.namespace));
    });

  registerDecisionCommands(release, program);
  registerListCommand(release, program);
  registerReportCommand(release, program);
  registerDiffCommand(release, program);
}
