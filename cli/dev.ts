/**
 * `modelship dev`: the local stack — the real Temporal dev server (SQLite under `.modelship/`, UI
 * on 8233, search attributes registered) and the control and CPU workers, until Ctrl-C.
 *
 * @module
 */
import type { Command } from 'commander';
import { NativeConnection } from '@temporalio/worker';
import { CPU_QUEUE } from '../lib/task-queues.ts';
import { isServerUp, startDevServer, type DevServer } from '../workers/dev-server.ts';
import { createWorkers, runWorkers } from '../workers/start-workers.ts';

/** A running local stack. */
export interface DevStack {
  address: string;
  uiUrl: string;
  /** Stops the workers, and the server if this process started it. */
  stop(): Promise<void>;
  /** Resolves when the workers stop. */
  running: Promise<void>;
}

/** Starts (or joins) the dev server and runs the control and CPU workers in this process. */
export async function startDevStack(home = '.modelship', port = 7233): Promise<DevStack> {
  const address = `127.0.0.1:${port}`;
  let server: DevServer | undefined;
  if (!(await isServerUp(address))) server = await startDevServer({ home, port, uiPort: port + 1000 });
  const connection = await NativeConnection.connect({ address });
  const workers = await createWorkers({ connection, control: true, targetQueues: [CPU_QUEUE], home });
  const running = runWorkers(workers);
  return {
    address,
    uiUrl: server?.uiUrl ?? `http://localhost:${port + 1000}`,
    running,
    async stop() {
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
      await running;
      await connection.close();
      await server?.stop();
    },
  };
}

/** Adds the `dev` command. */
export function registerDevCommand(program: Command): void {
  program
    .command('dev')
    .description('run the local stack: Temporal dev server (UI on :8233) and the control + cpu workers')
    .action(async () => {
      const stack = await startDevStack();
      console.log(`Temporal at ${stack.address}, UI at ${stack.uiUrl}; workers polling. Ctrl-C stops everything.`);
      const stop = () => void stack.stop();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      await stack.running;
    });
}
