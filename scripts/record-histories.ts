/**
 * Records histories for the replay test: the first release of the digits example through its
 * rollout (approved, promoted) — the release, its target child and its rollout child — on a
 * throwaway dev server and serving runtime. Histories recorded earlier stay: they prove that
 * `patched()` keeps old runs replayable. Run after an intended change of workflow behaviour, then
 * commit test/histories/.
 *
 *   node --import tsx scripts/record-histories.ts
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { findTemporalBinary } from '../workers/temporal-binary.ts';
import { startServingRuntime } from '../workers/serving-runtime.ts';
import { freePort } from '../workers/prometheus.ts';
import { startRelease } from '../cli/release/start-release.ts';
import { approveUpdate, rolloutStatusQuery, rolloutWorkflowId } from '../lib/rollout.ts';
import { makeModelRepo, startTemporal, startWorkers, tempDir } from '../test/integration/harness.ts';

const out = fileURLToPath(new URL('../test/histories/', import.meta.url));
const home = await tempDir();
const env = await startTemporal();
const runtime = await startServingRuntime({ home, port: await freePort(), model: 'digits' });
const token = (await readFile(runtime.tokenFile, 'utf8')).trim();
const workers = await startWorkers(env, home, { runtime: { url: runtime.url, token }, metrics: { serveUrl: runtime.url } });
try {
  const repo = await makeModelRepo(await tempDir());
  const r = await startRelease(env.client, { repo, tag: 'v1.0.0' });
  const rollout = env.client.workflow.getHandle(rolloutWorkflowId(r.workflowId));
  while (!(await rollout.query(rolloutStatusQuery).catch(() => undefined))?.awaiting) await sleep(200);
  await rollout.executeUpdate(approveUpdate, { args: [{ by: 'alice', step: 0, reason: 'recording' }] });
  await r.handle.result();

  const index = JSON.parse(await readFile(join(out, 'index.json'), 'utf8')) as Record<string, string>;
  for (const [file, id] of [
    ['release-digits-v1.0.0.json', r.workflowId],
    ['target-digits-v1.0.0-cpu.json', `${r.workflowId}/target/cpu`],
    ['rollout-digits-v1.0.0.json', rolloutWorkflowId(r.workflowId)],
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
  await runtime.stop();
  await env.teardown();
}
