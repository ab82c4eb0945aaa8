/**
 * The receiver's way into Temporal: the same {@link startRelease} the CLI uses (the manifest and
 * the tagged tree are checked first; one release per tag), from the clone location the
 * configuration pins — never from a URL in the payload.
 *
 * @module
 */
import type { Client } from '@temporalio/client';
import { startRelease } from '../../cli/release/start-release.ts';
import type { WebhookConfig } from './config.ts';
import type { StartTagRelease } from './receiver.ts';

/** Starts releases for the receiver through `client`. */
export function releaseStarter(client: Client, config: Pick<WebhookConfig, 'rollout'>): StartTagRelease {
  return async (event, repository) => {
    const r = await startRelease(client, { repo: repository.repo, tag: event.tag, requestedBy: `${event.provider}:${event.sender}`, rollout: config.rollout });
    return { workflowId: r.workflowId, started: r.started };
  };
}
