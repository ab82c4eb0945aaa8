/**
 * Releases from tag webhooks: GitHub (`push`/`create` of a tag, HMAC-signed) and GitLab (Tag Push
 * Hook, shared token). See receiver.ts for the order of checks.
 *
 * @module
 */
export { loadWebhookConfig, webhookConfig, tagMatches, type WebhookConfig, type WebhookRepository } from './config.ts';
export { DeliveryLog } from './deliveries.ts';
export { devWebhookConfig, devWebhookConfigFile } from './dev-config.ts';
export { githubEvent, gitlabEvent, type WebhookEvent } from './events.ts';
export { startWebhookReceiver, type ReceiverOptions, type WebhookReceiver, type StartTagRelease } from './receiver.ts';
export { releaseStarter } from './release-starter.ts';
export { githubSignature, verifyGithubSignature, verifyGitlabToken } from './signatures.ts';
