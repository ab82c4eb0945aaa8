import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..', '..');

describe('the GitHub Actions example', () => {
  it('runs on tag pushes and calls `release start` with flags the CLI has', async () => {
    const wf = parse(readFileSync(join(ROOT, 'examples/ci/github-actions-release.yml'), 'utf8')) as {
      on: { push: { tags: string[] } };
      jobs: { release: { steps: { run?: string }[] } };
    };
    expect(wf.on.push.tags).toEqual(['v*']);
    const run = wf.jobs.release.steps.map((s) => s.run ?? '').find((r) => r.includes('modelship release'));
    expect(run).toBeDefined();
    const [, command] = /npx modelship (release \w+)/.exec(run!)!;
    const flags = [...run!.matchAll(/(--[a-z-]+)/g)].map((m) => m[1]!);
    expect(flags).toEqual(['--repo', '--tag']);
    const help = await execa('node', ['--import', 'tsx', 'cli/index.ts', ...command!.split(' '), '--help'], { cwd: ROOT });
    for (const flag of flags) expect(help.stdout).toContain(`${flag} <`);
  }, 60_000);
});
