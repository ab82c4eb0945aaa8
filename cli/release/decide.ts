/**
 * `modelship release approve|reject|rollback <model> <tag>`: the same Updates a person sends from
 * the Temporal UI, validated by the workflow (the waiting step, the approver list, not decided yet).
 *
 * @module
 */
import { userInfo } from 'node:os';
import type { Command } from 'commander';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { releaseWorkflowId } from '../../lib/release.ts';
import { approveUpdate, rejectUpdate, rollbackUpdate, rolloutWorkflowId, type DecisionRecord } from '../../lib/rollout.ts';
import { UserError } from '../../lib/errors.ts';
import { connectClient, temporalTarget, workflowUiUrl } from '../connection.ts';

interface DecideOptions {
  step?: number;
  as?: string;
  reason?: string;
}

/** Adds approve, reject and rollback to the `release` command. */
export function registerDecisionCommands(release: Command, program: Command): void {
  const send = async (kind: 'approve' | 'reject' | 'rollback', model: string, tag: string, opts: DecideOptions) => {
    const target = temporalTarget(program.opts());
    const client = await connectClient(target);
    const workflowId = rolloutWorkflowId(releaseWorkflowId(model, tag));
    const handle = client.workflow.getHandle(workflowId);
    const by = opts.as ?? userInfo().username;
    let record: DecisionRecord;
    try {
      if (kind === 'rollback') {
        if (!opts.reason) throw new UserError('rollback needs --reason', 'say why, e.g. --reason "p99 doubled on the dashboard"');
        record = await handle.executeUpdate(rollbackUpdate, { args: [{ by, reason: opts.reason }] });
      } else {
        const update = kind === 'approve' ? approveUpdate : rejectUpdate;
        record = await handle.executeUpdate(update, { args: [{ by, step: opts.step, reason: opts.reason }] });
      }
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError) throw new UserError(`${kind} refused: ${(err.cause as Error | undefined)?.message ?? err.message}`);
      if ((err as Error).name === 'WorkflowNotFoundError') throw new UserError(`${model} ${tag} has no rollout (yet): ${workflowId}`, `see: modelship release status ${model} ${tag}`);
      throw err;
    }
    console.log(`${record.kind} #${record.seq} by ${record.by}${record.step !== undefined ? ` for step ${record.step} (${record.weight}%)` : ''}: ${record.verdict}`);
    console.log(`UI: ${workflowUiUrl(workflowId, target.namespace)}`);
  };
  const step = (v: string) => Number(v);
  release
    .command('approve <model> <tag>')
    .description('approve the rollout step waiting for approval')
    .option('--step <n>', 'the step you mean to approve (refused if another one is waiting)', step)
    .option('--as <name>', 'approver name (must be in the manifest); default your user name')
    .option('--reason <text>', 'why, for the decision record')
    .action((model: string, tag: string, opts: DecideOptions) => send('approve', model, tag, opts));
  release
    .command('reject <model> <tag>')
    .description('reject the waiting step: the candidate is rolled back')
    .option('--step <n>', 'the step you mean to reject', step)
    .option('--as <name>', 'approver name; default your user name')
    .option('--reason <text>', 'why, for the decision record')
    .action((model: string, tag: string, opts: DecideOptions) => send('reject', model, tag, opts));
  release
    .command('rollback <model> <tag>')
    .description('roll back now, whatever the phase; stable keeps serving')
    .option('--as <name>', 'who asks; default your user name')
    .option('--reason <text>', 'why (required)')
    .action((model: string, tag: string, opts: DecideOptions) => send('rollback', model, tag, opts));
}
