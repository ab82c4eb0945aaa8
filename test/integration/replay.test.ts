/**
 * Replays recorded histories against today's workflow code: a change that would make running
 * releases non-deterministic fails here (put new behaviour behind `patched()`).
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { Worker } from '@temporalio/worker';
import { workflowBundle } from './harness.ts';

const dir = fileURLToPath(new URL('../histories/', import.meta.url));

it('replays every recorded history deterministically', async () => {
  const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as Record<string, string>;
  const files = (await readdir(dir)).filter((f) => f.endsWith('.json') && f !== 'index.json');
  expect(files.sort()).toEqual(Object.keys(index).sort());
  const bundle = await workflowBundle();
  for (const file of files) {
    const history = historyFromJSON(JSON.parse(await readFile(join(dir, file), 'utf8')));
    const workflowId = index[file]!;
    // Throws DeterminismViolationError (or the workflow's own error) when replay diverges.
    await Worker.runReplayHistory({ workflowBundle: bundle, replayName: workflowId }, history, workflowId);
  }
});
