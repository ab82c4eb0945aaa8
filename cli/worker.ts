/**
 * `modelship worker --queue <name>`: runs a worker process against a Temporal cluster.
 *
 * @module
 */
import type { Command } from 'commander';
import { NativeConnection } from '@temporalio/worker';
import { CONTROL_QUEUE } from '../lib/task-queues.ts';
import { createWorkers, runWorkers } from '../workers/start-workers.ts';
import { temporalTarget } from './connection.ts';

/** Adds the `worker` command. */
export function registerWorkerCommand(program: Command): void {
  program
    .command('worker')
    .description(`poll task queues: "${CONTROL_QUEUE}" runs workflows and control steps; others (e.g. "cpu") run engine steps`)
    .requiredOption('--queue <name...>', `task queue(s) to poll, e.g. ${CONTROL_QUEUE} cpu`)
    .option('--worker-id <id>', 'stable name of this host (its own queue is <queue>@<id>); default the hostname')
    .option('--artifacts <uri>', 'artifact store (default $MODELSHIP_ARTIFACTS or .modelship/artifacts)')
    .action(async (opts: { queue: string[]; workerId?: string; artifacts?: string }) => {
      const target = temporalTarget(program.opts());
      const connection = await NativeConnection.connect({ address: target.address });
      const workers = await createWorkers({
        connection,
        namespace: target.namespace,
        control: opts.queue.includes(CONTROL_QUEUE),
        targetQueues: opts.queue.filter((q) => q !== CONTROL_QUEUE),
        workerId: opts.workerId,
        artifacts: opts.artifacts,
      });
      console.log(`polling ${workers.map((w) => w.options.taskQueue).join(', ')} on ${target.address} (Ctrl-C stops)`);
      await runWorkers(workers);
      await connection.close();
    });
}
