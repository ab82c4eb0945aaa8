/**
 * How the CLI reaches Temporal: `--address`/`TEMPORAL_ADDRESS` (default the local dev server),
 * `--namespace`/`TEMPORAL_NAMESPACE`, and the Web UI base for links.
 *
 * @module
 */
import { hostname, userInfo } from 'node:os';
import { Client, Connection } from '@temporalio/client';
import { loadConfig } from '../lib/config.ts';
import { UserError } from '../lib/errors.ts';
import { cliCommand } from './self-command.ts';

/** Where Temporal is. */
export interface TemporalTarget {
  address: string;
  namespace: string;
}

/** The target from the environment (flags override it). */
export function temporalTarget(overrides: Partial<TemporalTarget> = {}): TemporalTarget {
  const config = loadConfig();
  return { address: overrides.address ?? config.temporalAddress, namespace: overrides.namespace ?? config.namespace };
}

/** A connected client, or a {@link UserError} saying how to start a server. */
export async function connectClient(target: TemporalTarget): Promise<Client> {
  try {
    const connection = await Connection.connect({ address: target.address, connectTimeout: 3000 });
    // The identity the server records with every Update and Signal this CLI sends (approvals too).
    return new Client({ connection, namespace: target.namespace, identity: `${userInfo().username}@${hostname()} modelship-cli` });
  } catch (err) {
    throw new UserError(
      `cannot reach Temporal at ${target.address}: ${(err as Error).message}`,
      `start the local stack with \`${cliCommand()} dev\`, or set TEMPORAL_ADDRESS / --address`,
    );
  }
}

/** The Web UI link of a workflow. */
export function workflowUiUrl(workflowId: string, namespace = 'default'): string {
  const base = loadConfig().uiUrl.replace(/\/$/, '');
  return `${base}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}
