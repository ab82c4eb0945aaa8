/**
 * Tags and repositories on real git and the real dev server: revisions that are not tags start
 * nothing, git never runs a command through a remote helper whatever the worker's environment
 * says, and credentials never appear in an error.
 */
import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { checkoutTag } from '../../../activities/git.ts';
import { startRelease } from '../../../cli/release/start-release.ts';
import { UserError } from '../../../lib/errors.ts';
import { makeModelRepo, startTemporal, tempDir } from '../harness.ts';

let env: TestWorkflowEnvironment;
let repo: string;

beforeAll(async () => {
  env = await startTemporal();
  repo = await makeModelRepo(await tempDir());
  const g = (...a: string[]) => execa('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...a], { cwd: repo });
  await g('commit', '--allow-empty', '-qm', 'second');
  await g('tag', 'v2.0.0');
}, 300_000);
afterAll(async () => env?.teardown());

describe('what a release accepts as a tag', () => {
  it.each(['v1.0.0^0', 'v1.0.0~0', 'v1.0.0^{}', 'v2.0.0~1', 'HEAD', 'main'])('refuses %s before anything starts', async (tag) => {
    const err = await startRelease(env.client, { repo, tag }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    if (tag === 'HEAD' || tag === 'main') expect((err as Error).message).toMatch(/tag (HEAD|main) is not in/);
    else expect((err as Error).message).toMatch(/^--tag .* is not a tag name/);
    const started: string[] = [];
    for await (const wf of env.client.workflow.list()) started.push(wf.workflowId);
    expect(started).toEqual([]);
  });
});

describe('what git may do with --repo', () => {
  it('never runs a remote helper, even with GIT_ALLOW_PROTOCOL=ext:file in the worker environment', async () => {
    const marker = join(await mkdtemp(join(tmpdir(), 'pwn-')), 'pwned');
    const saved = process.env.GIT_ALLOW_PROTOCOL;
    process.env.GIT_ALLOW_PROTOCOL = 'ext:file';
    try {
      for (const evil of [`ext::sh -c touch% ${marker}`, `--upload-pack=touch ${marker}`, `-u touch ${marker}`]) {
        const err = await checkoutTag(evil, 'v1.0.0', join(await tempDir(), 'co')).catch((e: unknown) => e);
        expect(err, evil).toBeInstanceOf(UserError);
      }
      expect(await readdir(join(marker, '..'))).toEqual([]);
    } finally {
      if (saved === undefined) delete process.env.GIT_ALLOW_PROTOCOL;
      else process.env.GIT_ALLOW_PROTOCOL = saved;
    }
  });

  it('keeps credentials out of errors', async () => {
    const err = await startRelease(env.client, { repo: 'https://user:TOKEN-123@127.0.0.1:9/nope.git', tag: 'v1.0.0' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect(String((err as Error).message)).not.toContain('TOKEN-123');
    expect(String((err as UserError).hint)).toMatch(/credential helper or an SSH key/);
    const clone = await checkoutTag('ssh://git@127.0.0.1:9/nope.git', 'v1.0.0', join(await tempDir(), 'co')).catch((e: unknown) => e);
    expect(clone).toBeInstanceOf(UserError);
    expect(String((clone as Error).message)).toContain('ssh://***@127.0.0.1:9/nope.git');
  });

  it('releases a real tag', async () => {
    const r = await startRelease(env.client, { repo, tag: 'v2.0.0', rollout: false });
    expect(r.workflowId).toBe('release/digits/v2.0.0');
    await env.client.workflow.getHandle(r.workflowId).terminate('test: only the start is checked here');
  });
});
