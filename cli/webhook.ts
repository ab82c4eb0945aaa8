/**
 * `modelship webhook`: the tag webhook receiver on its own (the dev stack runs one too).
 *
 * @module
 */
import { join, dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { DeliveryLog, loadWebhookConfig, releaseStarter, startWebhookReceiver } from '../triggers/webhook/index.ts';
import { connectClient, temporalTarget, workflowUiUrl } from './connection.ts';

/** Adds the `webhook` command. */
export function registerWebhookCommand(program: Command): void {
  program
    .command('webhook')
    .description('receive GitHub/GitLab tag webhooks and start their releases (POST /webhooks/github, /webhooks/gitlab)')
    .requiredOption('--config <webhooks.yaml>', 'allowed repositories, their tag patterns, and the secret files')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port to listen on', (v) => Number(v), 8102)
    .option('--deliveries <file>', 'where delivery IDs are kept for replay protection (default: beside the config)')
    .action(async (opts: { config: string; host: string; port: number; deliveries?: string }) => {
      const config = loadWebhookConfig(opts.config);
      const target = temporalTarget(program.opts());
      const client = await connectClient(target);
      const receiver = await startWebhookReceiver({
        config,
        deliveries: new DeliveryLog(opts.deliveries ?? join(dirname(resolve(opts.config)), 'webhook-deliveries.jsonl')),
        start: releaseStarter(client, config),
        uiUrl: (id) => workflowUiUrl(id, target.namespace),
        host: opts.host,
        port: opts.port,
      });
      console.log(`webhooks: ${receiver.url}/webhooks/github and /webhooks/gitlab, ${config.repositories.length} repositories allowed (${config.source}). Ctrl-C stops.`);
      const stop = () => void receiver.stop().then(() => client.connection.close());
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
