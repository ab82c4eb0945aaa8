/**
 * Tag webhooks against the real dev server and a real model repository: signed GitHub and GitLab
 * deliveries start exactly one release per tag (GitHub's push and create of one tag, replays, and
 * a burst of the same delivery included); forged ones start nothing.
 */
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { statusQuery } from '../../../lib/release.ts';
import { webhookConfig } from '../../../triggers/webhook/config.ts';
import { DeliveryLog } from '../../../triggers/webhook/deliveries.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../../../triggers/webhook/receiver.ts';
import { releaseStarter } from '../../../triggers/webhook/release-starter.ts';
import { payload, sendGithub, sendGitlab } from '../../fixtures/webhooks/deliver.ts';
import { makeModelRepo, startTemporal, tempDir } from '../harness.ts';

const SECRET = 'integration-github-secret';
const TOKEN = 'integration-gitlab-token';
let env: TestWorkflowEnvironment;
let receiver: WebhookReceiver;

beforeAll(async () => {
  env = await startTemporal();
  const repo = await makeModelRepo(await tempDir());
  await execa('git', ['tag', 'v1.0.1'], { cwd: repo });
  await execa('git', ['tag', 'nightly'], { cwd: repo });
  const config = webhookConfig(
    { repositories: [{ name: 'acme/digits', repo, provider: 'github' }, { name: 'ml/digits', repo, provider: 'gitlab' }], rollout: false },
    'webhooks.yaml',
    '/',
    { MODELSHIP_WEBHOOK_GITHUB_SECRET: SECRET, MODELSHIP_WEBHOOK_GITLAB_TOKEN: TOKEN },
  );
  receiver = await startWebhookReceiver({ config, deliveries: new DeliveryLog(), start: releaseStarter(env.client, config) });
}, 300_000);

afterAll(async () => {
  await receiver?.stop();
  for await (const wf of env.client.workflow.list()) if (wf.status.name === 'RUNNING') await env.client.workflow.getHandle(wf.workflowId).terminate('test over');
  await env?.teardown();
});

async function releases(): Promise<string[]> {
  const ids: string[] = [];
  for await (const wf of env.client.workflow.list()) ids.push(wf.workflowId);
  return ids.sort();
}

describe('releases from tag webhooks', () => {
  it('signed deliveries start one release per tag; forged, replayed and duplicate ones start nothing new', async () => {
    const base = receiver.url;
    const push = payload('github-push-tag');
    const forged = await Promise.all([
      sendGithub(base, { event: 'push', body: push, secret: 'not-the-secret' }),
      sendGithub(base, { event: 'push', body: push, secret: null }),
      sendGitlab(base, { body: payload('gitlab-tag-push'), token: 'guess' }),
    ]);
    expect(forged.map((f) => f.status)).toEqual([401, 401, 401]);
    expect(await releases()).toEqual([]);

    // GitHub's two events of one tag push, the push delivered three times at once, and a replay later.
    const burst = await Promise.all([
      sendGithub(base, { event: 'push', body: push, secret: SECRET, delivery: 'gh-push-1' }),
      sendGithub(base, { event: 'push', body: push, secret: SECRET, delivery: 'gh-push-1' }),
      sendGithub(base, { event: 'push', body: push, secret: SECRET, delivery: 'gh-push-1' }),
      sendGithub(base, { event: 'create', body: payload('github-create-tag'), secret: SECRET, delivery: 'gh-create-1' }),
    ]);
    expect(burst.filter((a) => a.body.status === 'started')).toHaveLength(1);
    for (const a of burst) expect([200, 201, 409]).toContain(a.status);
    const replay = await sendGithub(base, { event: 'push', body: push, secret: SECRET, delivery: 'gh-push-1' });
    expect(replay.body).toMatchObject({ status: 'duplicate', workflowId: 'release/digits/v1.0.0' });

    const gitlab = await sendGitlab(base, { body: { ...payload('gitlab-tag-push'), ref: 'refs/tags/v1.0.1' }, token: TOKEN });
    expect(gitlab).toMatchObject({ status: 201, body: { status: 'started', workflowId: 'release/digits/v1.0.1' } });
    const notARelease = await sendGitlab(base, { body: { ...payload('gitlab-tag-push'), ref: 'refs/tags/nightly' }, token: TOKEN });
    expect(notARelease.body.status).toBe('ignored');
    const wrongForge = await sendGitlab(base, { body: { ...payload('gitlab-tag-push'), project: { path_with_namespace: 'acme/digits' } }, token: TOKEN });
    expect(wrongForge.status).toBe(403);

    expect(await releases()).toEqual(['release/digits/v1.0.0', 'release/digits/v1.0.1']);
    const described = await env.client.workflow.getHandle('release/digits/v1.0.0').describe();
    expect(described.memo?.commit).toMatch(/^[0-9a-f]{40}$/);
    const status = await env.client.workflow.getHandle('release/digits/v1.0.1').query(statusQuery).catch(() => undefined);
    expect(status === undefined || status.tag === 'v1.0.1').toBe(true);
  }, 120_000);

  it('a tag whose manifest is wrong is refused with the field, and nothing starts', async () => {
    const bad = await makeModelRepo(await tempDir(), { tag: 'v3.0.0', editManifest: (y) => y.replace(/^name: .*$/m, 'name: "Not A Name!"') });
    const config = webhookConfig({ repositories: [{ name: 'acme/bad', repo: bad }] }, 'webhooks.yaml', '/', { MODELSHIP_WEBHOOK_GITHUB_SECRET: SECRET });
    const own = await startWebhookReceiver({ config, deliveries: new DeliveryLog(), start: releaseStarter(env.client, config) });
    try {
      const body = { ...payload('github-push-tag'), ref: 'refs/tags/v3.0.0', repository: { full_name: 'acme/bad' } };
      const r = await sendGithub(own.url, { event: 'push', body, secret: SECRET });
      expect(r.status).toBe(422);
      expect(String(r.body.reason)).toMatch(/modelship\.yaml at v3\.0\.0[\s\S]*name/);
      expect((await releases()).filter((id) => id.includes('v3.0.0'))).toEqual([]);
    } finally {
      await own.stop();
    }
  }, 300_000);
});
