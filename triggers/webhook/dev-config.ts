/**
 * The dev stack's receiver configuration: `<home>/webhooks.yaml`, written on first start with
 * fresh secrets (files of mode 0600 beside it) and an empty allowlist for a person to fill in.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadWebhookConfig, type WebhookConfig } from './config.ts';

/** The configuration file of the dev stack's receiver. */
export function devWebhookConfigFile(home: string): string {
  return join(home, 'webhooks.yaml');
}

const TEMPLATE = `# The dev stack's webhook receiver (modelship dev, POST /webhooks/github and /webhooks/gitlab).
# Deliveries from repositories not listed here get 403 and start nothing.
repositories: []
#  - name: acme/digits                          # GitHub full_name / GitLab path_with_namespace
#    repo: https://github.com/acme/digits.git   # what modelship clones (a URL or a local path)
#    tags: ["v*"]                               # which tags are releases
github: { secretFile: webhook-github.secret }  # the webhook's "Secret"
gitlab: { tokenFile: webhook-gitlab.token }    # the webhook's "Secret token"
`;

/** Reads `<home>/webhooks.yaml`, writing it (and its secrets) first when it is not there. */
export function devWebhookConfig(home: string): WebhookConfig {
  const file = devWebhookConfigFile(home);
  if (!existsSync(file)) {
    mkdirSync(home, { recursive: true });
    for (const name of ['webhook-github.secret', 'webhook-gitlab.token']) {
      const path = join(home, name);
      if (!existsSync(path)) writeFileSync(path, `${randomBytes(24).toString('hex')}\n`, { mode: 0o600 });
    }
    writeFileSync(file, TEMPLATE);
  }
  return loadWebhookConfig(file);
}
