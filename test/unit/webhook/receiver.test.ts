import { mkdtempSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { webhookConfig } from '../../../triggers/webhook/config.ts';
import { DeliveryLog } from '../../../triggers/webhook/deliveries.ts';
import { startWebhookReceiver, type StartTagRelease, type TagDelivery, type WebhookReceiver } from '../../../triggers/webhook/receiver.ts';
import { payload, sendGithub, sendGitlab } from '../../fixtures/webhooks/deliver.ts';

const SECRET = 'gh-secret-for-tests';
const TOKEN = 'gl-token-for-tests';
const CONFIG = webhookConfig(
  { repositories: [{ name: 'acme/digits', repo: '/srv/git/digits', tags: ['v*'] }, { name: 'ml/digits', repo: '/srv/git/ml-digits', tags: ['model/*', 'v*'] }], maxBodyBytes: 64 * 1024 },
  'webhooks.yaml',
  '/',
  { MODELSHIP_WEBHOOK_GITHUB_SECRET: SECRET, MODELSHIP_WEBHOOK_GITLAB_TOKEN: TOKEN },
);

let receiver: WebhookReceiver | undefined;
afterEach(async () => {
  await receiver?.stop();
  receiver = undefined;
});

/** A receiver whose starts are recorded; a workflow ID starts once, as Temporal's ID policy does. */
async function serve(opts: { start?: StartTagRelease; deliveries?: DeliveryLog } = {}) {
  const calls: { event: TagDelivery; repo: string }[] = [];
  const ids = new Set<string>();
  const start: StartTagRelease =
    opts.start ??
    (async (event, repository) => {
      calls.push({ event, repo: repository.repo });
      const workflowId = `release/digits/${event.tag}`;
      const started = !ids.has(workflowId);
      ids.add(workflowId);
      return { workflowId, started };
    });
  receiver = await startWebhookReceiver({ config: CONFIG, deliveries: opts.deliveries ?? new DeliveryLog(), start, uiUrl: (id) => `http://ui/${id}` });
  return { base: receiver.url, calls };
}

describe('webhook receiver', () => {
  it('a signed tag push starts the release from the configured clone location, and says which', async () => {
    const { base, calls } = await serve();
    const r = await sendGithub(base, { event: 'push', body: payload('github-push-tag'), secret: SECRET, delivery: 'd-1' });
    expect(r).toEqual({
      status: 201,
      body: { status: 'started', workflowId: 'release/digits/v1.0.0', ui: 'http://ui/release/digits/v1.0.0', repository: 'acme/digits', tag: 'v1.0.0', delivery: 'd-1' },
    });
    expect(calls).toHaveLength(1);
    expect(calls[0]!.repo).toBe('/srv/git/digits');
    expect(calls[0]!.event.sender).toBe('octocat');
  });

  it("GitHub's push and create for one tag start one release; the second finds it", async () => {
    const { base } = await serve();
    const a = await sendGithub(base, { event: 'push', body: payload('github-push-tag'), secret: SECRET });
    const b = await sendGithub(base, { event: 'create', body: payload('github-create-tag'), secret: SECRET });
    expect([a.status, a.body.status, b.status, b.body.status]).toEqual([201, 'started', 200, 'exists']);
    expect(b.body.workflowId).toBe('release/digits/v1.0.0');
  });

  it('forged, unsigned, re-signed-with-another-secret and sha1 deliveries get 401 and start nothing', async () => {
    const { base, calls } = await serve();
    const body = payload('github-push-tag');
    const answers = await Promise.all([
      sendGithub(base, { event: 'push', body, secret: null }),
      sendGithub(base, { event: 'push', body, secret: 'guessed' }),
      sendGithub(base, { event: 'push', body, secret: SECRET, signature: 'sha1=0123456789abcdef0123456789abcdef01234567' }),
      sendGitlab(base, { body: payload('gitlab-tag-push'), token: null }),
      sendGitlab(base, { body: payload('gitlab-tag-push'), token: `${TOKEN}x` }),
    ]);
    expect(answers.map((a) => a.status)).toEqual([401, 401, 401, 401, 401]);
    expect(String(answers[0]!.body.error)).toMatch(/X-Hub-Signature-256/);
    expect(String(answers[3]!.body.error)).toMatch(/X-Gitlab-Token/);
    expect(calls).toHaveLength(0);
  });

  it('a body changed after signing is refused', async () => {
    const { base, calls } = await serve();
    const signed = JSON.stringify(payload('github-push-tag'));
    const { githubSignature } = await import('../../../triggers/webhook/signatures.ts');
    const r = await sendGithub(base, { event: 'push', body: signed.replace('v1.0.0', 'v9.9.9'), secret: SECRET, signature: githubSignature(SECRET, Buffer.from(signed)) });
    expect(r.status).toBe(401);
    expect(calls).toHaveLength(0);
  });

  it('a replayed delivery gets the first answer and starts nothing new, also after a restart', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'deliveries-')), 'deliveries.jsonl');
    const first = await serve({ deliveries: new DeliveryLog(file) });
    const send = () => sendGithub(first.base, { event: 'push', body: payload('github-push-tag'), secret: SECRET, delivery: '72d3162e-cc78-11e3-81ab-4c9367dc0958' });
    expect((await send()).body.status).toBe('started');
    const again = await send();
    expect(again).toMatchObject({ status: 200, body: { status: 'duplicate', first: 'started', workflowId: 'release/digits/v1.0.0' } });
    expect(first.calls).toHaveLength(1);
    await receiver!.stop();
    const second = await serve({ deliveries: new DeliveryLog(file) });
    const afterRestart = await sendGithub(second.base, { event: 'push', body: payload('github-push-tag'), secret: SECRET, delivery: '72d3162e-cc78-11e3-81ab-4c9367dc0958' });
    expect(afterRestart.body.status).toBe('duplicate');
    expect(second.calls).toHaveLength(0);
  });

  it('GitLab tag pushes start releases; patterns, allowlist and other events decide the rest', async () => {
    const { base, calls } = await serve();
    const tag = await sendGitlab(base, { body: { ...payload('gitlab-tag-push'), ref: 'refs/tags/model/v2' }, token: TOKEN });
    expect(tag).toMatchObject({ status: 201, body: { status: 'started', tag: 'model/v2', repository: 'ml/digits' } });
    expect(calls[0]!.repo).toBe('/srv/git/ml-digits');
    const unmatched = await sendGitlab(base, { body: { ...payload('gitlab-tag-push'), ref: 'refs/tags/nightly-3' }, token: TOKEN });
    expect(unmatched).toMatchObject({ status: 200, body: { status: 'ignored', reason: 'tag nightly-3 matches none of model/*, v*' } });
    const stranger = await sendGitlab(base, { body: { ...payload('gitlab-tag-push'), project: { path_with_namespace: 'evil/model' } }, token: TOKEN });
    expect(stranger.status).toBe(403);
    expect(String(stranger.body.error)).toMatch(/evil\/model \(gitlab\) is not in the allowlist of webhooks\.yaml/);
    const push = await sendGitlab(base, { event: 'Push Hook', body: {}, token: TOKEN });
    expect(push).toMatchObject({ status: 200, body: { status: 'ignored' } });
    const branch = await sendGithub(base, { event: 'push', body: payload('github-push-branch'), secret: SECRET });
    expect(branch.body).toMatchObject({ status: 'ignored', reason: 'push to refs/heads/main, not a tag' });
    expect((await sendGithub(base, { event: 'ping', body: payload('github-ping'), secret: SECRET })).body.status).toBe('pong');
    expect(calls).toHaveLength(1);
  });

  it('malformed bodies name the field; JSON errors; form-encoded GitHub deliveries work', async () => {
    const { base, calls } = await serve();
    const notJson = await sendGithub(base, { event: 'push', body: '{"ref": ', secret: SECRET });
    expect(notJson).toEqual({ status: 400, body: { error: 'body is not valid JSON' } });
    const noSender = await sendGithub(base, { event: 'push', body: { ...payload('github-push-tag'), sender: null }, secret: SECRET });
    expect(noSender.status).toBe(400);
    expect(String(noSender.body.error)).toMatch(/field sender/);
    const form = `payload=${encodeURIComponent(JSON.stringify(payload('github-create-tag')))}`;
    const { githubSignature } = await import('../../../triggers/webhook/signatures.ts');
    const res = await fetch(`${base}/webhooks/github`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-github-event': 'create', 'x-github-delivery': 'form-1', 'x-hub-signature-256': githubSignature(SECRET, Buffer.from(form)) },
      body: form,
    });
    expect(res.status).toBe(201);
    expect(calls).toHaveLength(1);
  });

  it('over-size bodies get 413 unread; unknown paths 404 and other methods 405, as JSON', async () => {
    const { base, calls } = await serve();
    const big = await sendGithub(base, { event: 'push', body: { ...payload('github-push-tag'), padding: 'x'.repeat(100_000) }, secret: SECRET });
    expect(big.status).toBe(413);
    expect(String(big.body.error)).toMatch(/maxBodyBytes/);
    const nowhere = await fetch(`${base}/hooks`, { method: 'POST' });
    expect(nowhere.status).toBe(404);
    expect(((await nowhere.json()) as { error: string }).error).toMatch(/\/webhooks\/github/);
    const get = await fetch(`${base}/webhooks/gitlab`);
    expect([get.status, get.headers.get('allow')]).toEqual([405, 'POST']);
    expect(calls).toHaveLength(0);
  });

  it('a body streamed past the limit without a Content-Length is cut off with 413', async () => {
    const { base } = await serve();
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${base}/webhooks/github`, { method: 'POST', headers: { 'transfer-encoding': 'chunked' } }, (res) => resolve(res.statusCode!));
      req.on('error', reject);
      const chunk = Buffer.alloc(16 * 1024, 'x');
      for (let i = 0; i < 8; i++) req.write(chunk);
      req.end();
    });
    expect(status).toBe(413);
  });

  it('a refused manifest is 422 with the reason; Temporal out of reach is 503 and the delivery may come again', async () => {
    const { UserError } = await import('../../../lib/errors.ts');
    let fail: Error = new UserError('modelship.yaml at v1.0.0: name: expected a model name');
    const { base } = await serve({
      start: async () => {
        throw fail;
      },
    });
    const refused = await sendGithub(base, { event: 'push', body: payload('github-push-tag'), secret: SECRET, delivery: 'x-1' });
    expect(refused).toMatchObject({ status: 422, body: { status: 'refused', reason: expect.stringMatching(/name: expected a model name/) } });
    fail = new Error('14 UNAVAILABLE: connection refused');
    const down = await sendGithub(base, { event: 'push', body: payload('github-push-tag'), secret: SECRET, delivery: 'x-2' });
    expect(down).toMatchObject({ status: 503, body: { error: expect.stringMatching(/UNAVAILABLE/) } });
    fail = new UserError('now refused');
    const redelivered = await sendGithub(base, { event: 'push', body: payload('github-push-tag'), secret: SECRET, delivery: 'x-2' });
    expect(redelivered.status).toBe(422);
  });

  it('a provider without a secret configured refuses its deliveries', async () => {
    const config = webhookConfig({ repositories: [{ name: 'acme/digits', repo: 'r' }] }, 'only-github.yaml', '/', { MODELSHIP_WEBHOOK_GITHUB_SECRET: SECRET });
    receiver = await startWebhookReceiver({ config, deliveries: new DeliveryLog(), start: async () => ({ workflowId: 'w', started: true }) });
    const r = await sendGitlab(receiver.url, { body: payload('gitlab-tag-push'), token: 'anything' });
    expect(r.status).toBe(404);
    expect(String(r.body.error)).toMatch(/only-github\.yaml has no gitlab\.tokenFile/);
  });
});
