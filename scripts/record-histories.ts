/**
 * Records the histories that the replay test replays: a full release of the digits example (fp32
 * and int8) and its target child, on a throwaway dev server. Run after an intended change of
 * workflow behaviour (behind `patched()`), then commit test/histories/.
 *
 *   node --import tsx scripts/record-histories.ts
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { findTemporalBinary } from '../workers/temporal-binary.ts';
import { startRelease } from '../cli/release/start-release.ts';
import { makeModelRepo, startTemporal, startWorkers, tempDir } from '../test/integration/harness.ts';

const out = fileURLToPath(new URL('../test/histories/', import.meta.url));
const env = await startTemporal();
const workers = await startWorkers(env, await tempDir());
try {
  const repo = await makeModelRepo(await tempDir());
  const r = await startRelease(env.client, { repo, tag: 'v1.0.0' });
  await r.handle.result();
  const index: Record<string, string> = {};
  for (const [file, id] of [
    ['release-digits-v1.0.0.json', r.workflowId],
    ['target-digits-v1.0.0-cpu.json', `${r.workflowId}/target/cpu`],
  ] as const) {
    // The same JSON `temporal workflow show --output json` gives users, which historyFromJSON reads.
    const { stdout } = await execa(findTemporalBinary(), ['workflow', 'show', '--workflow-id', id, '--output', 'json', '--address', env.address]);
    await writeFile(join(out, file), `${stdout.trim()}\n`);
    console.log(`wrote ${join(out, file)} (${(JSON.parse(stdout) as { events: unknown[] }).events.length} events)`);
    index[file] = id;
  }
  // Replay needs each history's workflow ID (the workflow reads it), which the events do not hold.
  await writeFile(join(out, 'index.json'), `${JSON.stringify(index, null, 2)}\n`);
} finally {
  await workers.stop();
  await env.teardown();
}
