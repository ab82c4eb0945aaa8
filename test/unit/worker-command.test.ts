/**
 * `modelship worker` refuses flags it cannot honour before it connects anywhere, naming the flag.
 */
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';

const CLI = fileURLToPath(new URL('../../cli/index.ts', import.meta.url));
// An address nothing listens on: a flag error must come before any connection attempt.
const worker = (...args: string[]) => execa(process.execPath, ['--import', 'tsx', CLI, '--address', '127.0.0.1:1', 'worker', ...args], { reject: false });

describe('modelship worker --slots', () => {
  it.each([['0'], ['1.5'], ['many'], ['257']])('refuses --slots %s', async (n) => {
    const r = await worker('--queue', 'cpu', '--slots', n);
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toContain(`--slots expects a whole number from 1 to 256; got ${n}`);
  });

  it('refuses --slots on a control worker alone, which runs no engine jobs', async () => {
    const r = await worker('--queue', 'modelship-control', '--slots', '2');
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toContain('--slots sets the engine jobs of target queues; add one with --queue');
  });
});
