/**
 * The `modelship` command.
 *
 * @module
 */
import { Command } from 'commander';
import { Runtime } from '@temporalio/worker';
import { modelshipLogger } from '../workers/logger.ts';
import { ManifestError, UserError } from '../lib/errors.ts';
import { registerDemoCommand } from './demo/index.ts';
import { registerDevCommand } from './dev.ts';
import { registerInitCommand } from './init.ts';
import { registerReleaseCommands } from './release/index.ts';
import { registerTrtexecCommand } from './trtexec/index.ts';
import { registerWebhookCommand } from './webhook.ts';
import { registerWorkerCommand } from './worker.ts';

const program = new Command('modelship')
  .description('carry a PyTorch model from a git tag to production, through one durable Temporal workflow')
  .option('--address <host:port>', 'Temporal frontend (default $TEMPORAL_ADDRESS or 127.0.0.1:7233)')
  .option('--namespace <ns>', 'Temporal namespace (default $TEMPORAL_NAMESPACE or default)');

try {
  // Inside: a command's defaults read the configuration, which refuses wrong MODELSHIP_* values.
  registerInitCommand(program);
  registerReleaseCommands(program);
  registerDevCommand(program);
  registerWorkerCommand(program);
  registerDemoCommand(program);
  registerTrtexecCommand(program);
  registerWebhookCommand(program);
  // Workers log state changes at INFO; people running the CLI want warnings and their own output.
  Runtime.install({ logger: modelshipLogger() });
  await program.parseAsync();
} catch (err) {
  if (err instanceof ManifestError || err instanceof UserError) {
    // A UserError's message already ends with its hint.
    console.error(`modelship: ${err.message}`);
    process.exit(2);
  }
  throw err;
}
