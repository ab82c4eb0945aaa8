/**
 * `POST /webhooks/github` and `POST /webhooks/gitlab`: the HTTP receiver that turns a signed tag
 * delivery into a release. In order: size limit (413), the signature or token (401, before the
 * body is parsed), the event (400 names the field), the repository allowlist (403), the tag
 * pattern (200 `ignored`), the delivery ID (a replay gets the first answer, `duplicate`), then the
 * start — whose answer names the workflow it started or found. A refused manifest is 422; Temporal
 * out of reach is 503, and the delivery may be sent again.
 *
 * @module
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ManifestError, UserError } from '../../lib/errors.ts';
import { findRepository, tagMatches, type WebhookConfig, type WebhookRepository } from './config.ts';
import type { DeliveryLog, DeliveryOutcome } from './deliveries.ts';
import { githubEvent, gitlabEvent, MalformedDelivery, type Provider, type WebhookEvent } from './events.ts';
import { verifyGithubSignature, verifyGitlabToken } from './signatures.ts';

/** A tag delivery that passed every check. */
export type TagDelivery = Extract<WebhookEvent, { kind: 'tag' }>;

/** Starts (or finds) the release of a tag; the receiver's only way into Temporal. */
export type StartTagRelease = (event: TagDelivery, repository: WebhookRepository) => Promise<{ workflowId: string; started: boolean }>;

/** Options of {@link startWebhookReceiver}. */
export interface ReceiverOptions {
  config: WebhookConfig;
  deliveries: DeliveryLog;
  start: StartTagRelease;
  /** The UI link of a workflow, put in answers. */
  uiUrl?: (workflowId: string) => string;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Milliseconds a client has to send the whole request (slow senders get 408). Default 10 000. */
  requestTimeoutMs?: number;
}

/** A running receiver. */
export interface WebhookReceiver {
  url: string;
  port: number;
  stop(): Promise<void>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function send(res: ServerResponse, status: number, body: Record<string, unknown>): void {
  if (res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(header(req, 'content-length') ?? NaN);
  if (declared > limit) throw new HttpError(413, `body of ${declared} bytes is over the limit of ${limit} (maxBodyBytes)`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new HttpError(413, `body is over the limit of ${limit} bytes (maxBodyBytes)`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** The JSON of a delivery: `application/json`, or GitHub's form encoding (`payload=<json>`). */
function parseBody(body: Buffer, contentType: string | undefined): unknown {
  let text = body.toString('utf8');
  if (contentType?.startsWith('application/x-www-form-urlencoded')) {
    const payload = new URLSearchParams(text).get('payload');
    if (payload === null) throw new HttpError(400, 'form-encoded body has no payload field');
    text = payload;
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError(400, 'body is not valid JSON');
  }
}

interface Authenticated {
  provider: Provider;
  event: string;
  delivery?: string;
}

function authenticate(provider: Provider, req: IncomingMessage, body: Buffer, config: WebhookConfig): Authenticated {
  if (provider === 'github') {
    if (!config.githubSecret) throw new HttpError(404, `GitHub deliveries are not accepted here: ${config.source} has no github.secretFile`);
    if (!verifyGithubSignature(config.githubSecret, body, header(req, 'x-hub-signature-256'))) {
      throw new HttpError(401, 'X-Hub-Signature-256 is missing or does not match the body (check the webhook secret)');
    }
    const event = header(req, 'x-github-event');
    const delivery = header(req, 'x-github-delivery');
    if (!event) throw new HttpError(400, 'header X-GitHub-Event is missing');
    if (!delivery) throw new HttpError(400, 'header X-GitHub-Delivery is missing');
    return { provider, event, delivery };
  }
  if (!config.gitlabToken) throw new HttpError(404, `GitLab deliveries are not accepted here: ${config.source} has no gitlab.tokenFile`);
  if (!verifyGitlabToken(config.gitlabToken, header(req, 'x-gitlab-token'))) throw new HttpError(401, 'X-Gitlab-Token is missing or wrong (check the webhook secret token)');
  const event = header(req, 'x-gitlab-event');
  if (!event) throw new HttpError(400, 'header X-Gitlab-Event is missing');
  return { provider, event, delivery: header(req, 'idempotency-key') ?? header(req, 'x-gitlab-event-uuid') };
}

/** Decides a delivery that passed authentication. */
async function decide(event: WebhookEvent, options: ReceiverOptions): Promise<{ status: number; outcome: DeliveryOutcome }> {
  if (event.kind === 'ping') return { status: 200, outcome: { status: 'pong' } };
  if (event.kind === 'ignored') return { status: 200, outcome: { status: 'ignored', reason: event.reason } };
  const repository = findRepository(options.config, event.provider, event.repository);
  if (!repository) throw new HttpError(403, `repository ${event.repository} (${event.provider}) is not in the allowlist of ${options.config.source}`);
  if (!repository.tags.some((p) => tagMatches(p, event.tag))) {
    return { status: 200, outcome: { status: 'ignored', reason: `tag ${event.tag} matches none of ${repository.tags.join(', ')}` } };
  }
  try {
    const r = await options.start(event, repository);
    return { status: r.started ? 201 : 200, outcome: { status: r.started ? 'started' : 'exists', workflowId: r.workflowId } };
  } catch (err) {
    if (err instanceof UserError || err instanceof ManifestError) return { status: 422, outcome: { status: 'refused', reason: err.message } };
    throw new HttpError(503, `could not start the release: ${(err as Error).message.split('\n')[0]}`);
  }
}

async function handle(provider: Provider, req: IncomingMessage, res: ServerResponse, options: ReceiverOptions): Promise<void> {
  const body = await readBody(req, options.config.maxBodyBytes);
  const auth = authenticate(provider, req, body, options.config);
  let event: WebhookEvent;
  try {
    event = provider === 'github' ? githubEvent(auth.event, parseBody(body, header(req, 'content-type'))) : gitlabEvent(auth.event, parseBody(body, header(req, 'content-type')));
  } catch (err) {
    if (err instanceof MalformedDelivery) throw new HttpError(400, err.message);
    throw err;
  }
  const key = auth.delivery ? `${provider}:${auth.delivery}` : undefined;
  const claim = key ? options.deliveries.claim(key) : ({ kind: 'new' } as const);
  if (claim.kind === 'seen') return send(res, 200, { ...withUi(claim.outcome, options), status: 'duplicate', first: claim.outcome.status, delivery: auth.delivery });
  if (claim.kind === 'in-flight') throw new HttpError(409, `delivery ${auth.delivery} is being handled; its answer comes to the first request`);
  try {
    const { status, outcome } = await decide(event, options);
    if (key) options.deliveries.record(key, outcome);
    send(res, status, { ...withUi(outcome, options), ...(event.kind === 'tag' ? { repository: event.repository, tag: event.tag } : {}), delivery: auth.delivery });
  } catch (err) {
    // 403 is a decision (the same delivery gets the same answer); anything else may be sent again.
    if (key && err instanceof HttpError && err.status === 403) options.deliveries.record(key, { status: 'forbidden', reason: err.message });
    else if (key) options.deliveries.release(key);
    throw err;
  }
}

function withUi(outcome: DeliveryOutcome, options: ReceiverOptions): Record<string, unknown> {
  return outcome.workflowId && options.uiUrl ? { ...outcome, ui: options.uiUrl(outcome.workflowId) } : { ...outcome };
}

const ROUTES: Record<string, Provider> = { '/webhooks/github': 'github', '/webhooks/gitlab': 'gitlab' };

/** Starts the receiver; resolves once it listens. */
export async function startWebhookReceiver(options: ReceiverOptions): Promise<WebhookReceiver> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (path === '/healthz' && req.method === 'GET') return send(res, 200, { status: 'ok' });
    const provider = ROUTES[path];
    if (!provider) return send(res, 404, { error: `no route ${req.method} ${path.slice(0, 100)}; deliveries go to POST /webhooks/github or /webhooks/gitlab` });
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST');
      return send(res, 405, { error: `${path} takes POST` });
    }
    handle(provider, req, res, options).catch((err: unknown) => {
      const status = err instanceof HttpError ? err.status : 500;
      send(res, status, { error: err instanceof HttpError ? err.message : `internal error: ${(err as Error).message}` });
      // A body left unread (413, or an early refusal) is not waited for.
      if (!req.complete) res.once('finish', () => req.destroy());
    });
  });
  server.requestTimeout = options.requestTimeoutMs ?? 10_000;
  server.headersTimeout = Math.min(server.requestTimeout, 10_000);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
