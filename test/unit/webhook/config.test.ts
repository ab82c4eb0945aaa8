import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findRepository, loadWebhookConfig, tagMatches, webhookConfig } from '../../../triggers/webhook/config.ts';
import { devWebhookConfig } from '../../../triggers/webhook/dev-config.ts';

describe('webhook configuration', () => {
  it('reads secrets from files beside it; the environment overrides them', () => {
    const dir = mkdtempSync(join(tmpdir(), 'webhook-config-'));
    writeFileSync(join(dir, 'gh.secret'), 'from-file\n');
    writeFileSync(join(dir, 'webhooks.yaml'), 'repositories:\n  - { name: acme/digits, repo: /srv/digits }\ngithub: { secretFile: gh.secret }\n');
    const c = loadWebhookConfig(join(dir, 'webhooks.yaml'), {});
    expect(c.githubSecret).toBe('from-file');
    expect(c.gitlabToken).toBeUndefined();
    expect(c.repositories).toEqual([{ name: 'acme/digits', repo: '/srv/digits', tags: ['v*'] }]);
    expect(c.maxBodyBytes).toBe(1024 * 1024);
    expect(loadWebhookConfig(join(dir, 'webhooks.yaml'), { MODELSHIP_WEBHOOK_GITHUB_SECRET: 'from-env' }).githubSecret).toBe('from-env');
  });

  it('names every wrong field, a missing or empty secret file, and an unreadable file', () => {
    const wrong = () => webhookConfig({ repositories: [{ name: 'a/b' }], maxBodyBytes: 10, extra: 1 }, 'w.yaml', '/', {});
    expect(wrong).toThrow(/^w\.yaml is not a valid webhook configuration:/);
    expect(wrong).toThrow(/repositories\[0\]\.repo: /);
    expect(wrong).toThrow(/maxBodyBytes: /);
    expect(wrong).toThrow(/\(root\): .*"extra"/);
    expect(() => webhookConfig({ repositories: [{ name: 'a/b', repo: 'r', tags: ['v[0-9]'] }] }, 'w.yaml', '/', {})).toThrow(/repositories\[0\]\.tags\[0\]/);
    expect(() => webhookConfig({ github: { secretFile: 'nope.secret' } }, 'w.yaml', '/nonexistent', {})).toThrow(/github\.secretFile: cannot read \/nonexistent\/nope\.secret: ENOENT/);
    const dir = mkdtempSync(join(tmpdir(), 'webhook-config-'));
    writeFileSync(join(dir, 'empty.token'), '  \n');
    expect(() => webhookConfig({ gitlab: { tokenFile: 'empty.token' } }, 'w.yaml', dir, {})).toThrow(/gitlab\.tokenFile: .*empty\.token is empty/);
    expect(() => loadWebhookConfig(join(dir, 'missing.yaml'), {})).toThrow(/cannot read the webhook configuration .*missing\.yaml: ENOENT/);
  });

  it('tag patterns: * is any run of characters but /', () => {
    expect(tagMatches('v*', 'v1.2.0')).toBe(true);
    expect(tagMatches('v*', 'release-1')).toBe(false);
    expect(tagMatches('v*', 'v1/extra')).toBe(false);
    expect(tagMatches('model/*', 'model/v2')).toBe(true);
    expect(tagMatches('model/*', 'model-v2')).toBe(false);
    expect(tagMatches('v1.*', 'v1x2')).toBe(false);
  });

  it('repositories match by name (any case) and, when set, by provider', () => {
    const c = webhookConfig({ repositories: [{ name: 'Acme/Digits', repo: 'r1', provider: 'gitlab' }, { name: 'acme/other', repo: 'r2' }] }, 'w', '/', {});
    expect(findRepository(c, 'gitlab', 'acme/digits')?.repo).toBe('r1');
    expect(findRepository(c, 'github', 'acme/digits')).toBeUndefined();
    expect(findRepository(c, 'github', 'acme/other')?.repo).toBe('r2');
  });

  it("the dev stack's file is written once, with secrets of its own and an empty allowlist", () => {
    const home = mkdtempSync(join(tmpdir(), 'webhook-home-'));
    const first = devWebhookConfig(home);
    expect(first.repositories).toEqual([]);
    expect(first.githubSecret).toMatch(/^[0-9a-f]{48}$/);
    expect(first.gitlabToken).toMatch(/^[0-9a-f]{48}$/);
    expect(first.githubSecret).not.toBe(first.gitlabToken);
    expect(devWebhookConfig(home).githubSecret).toBe(first.githubSecret);
  });
});
