/**
 * bench/overhead: what durability costs. The same steps (inspect → export → build → parity →
 * bench per precision) run once as a plain sequential toolkit script and once as the release
 * workflow on the real dev server, on the same trained model, in one run. Reports the ratio
 * (workflow / script) and, from the workflow histories, the orchestration overhead per step:
 * the time between an activity being scheduled and started (queue latency) and between its end
 * and the next command (workflow task latency).
 *
 *   node --import tsx bench/overhead/run.ts [--precisions fp32,int8]
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { cpus, hostname } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startRelease } from '../../cli/release/start-release.ts';
import { defaultToolkitConfig, runToolkit } from '../../activities/toolkit.ts';
import { parseManifest, type Precision } from '../../lib/manifest.ts';
import { makeModelRepo, startTemporal, startWorkers, tempDir } from '../../test/integration/harness.ts';
import { activityTimings } from '../lib/history-timings.ts';

const precisions = (process.argv.find((a) => a.startsWith('--precisions='))?.split('=')[1] ?? 'fp32,int8').split(',') as Precision[];
const resultsDir = fileURLToPath(new URL('../results/', import.meta.url));

/** Wall time of the plain script, per step. */
async function runScript(repo: string): Promise<{ totalMs: number; steps: Record<string, number> }> {
  const manifest = parseManifest(await readFile(join(repo, 'modelship.yaml'), 'utf8'));
  const work = await tempDir('modelship-bench-script-');
  const toolkit = defaultToolkitConfig(join(work, 'tmp'));
  const steps: Record<string, number> = {};
  const timed = async <T>(name: string, body: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    const r = await body();
    steps[name] = performance.now() - t0;
    return r;
  };
  const t0 = performance.now();
  const checkpointPath = join(repo, manifest.artifact.checkpoint);
  await timed('inspect', () => runToolkit(toolkit, 'inspect', { repoDir: repo, manifest, checkpointPath, metricsPath: join(repo, manifest.artifact.metrics) }));
  const exported = await timed('export', () => runToolkit(toolkit, 'export', { repoDir: repo, manifest, checkpointPath, outDir: join(work, 'export') }));
  for (const precision of precisions) {
    const built = await timed(`build/${precision}`, () =>
      runToolkit(toolkit, 'build', { repoDir: repo, manifest, onnxPath: exported.onnx.path, backend: 'onnxruntime-cpu', precision, outDir: join(work, precision) }),
    );
    const engine = { enginePath: built.engine.path, backend: 'onnxruntime-cpu' as const, precision };
    await timed(`parity/${precision}`, () => runToolkit(toolkit, 'parity', { repoDir: repo, manifest, checkpointPath, ...engine }));
    await timed(`bench/${precision}`, () => runToolkit(toolkit, 'bench', { manifest, ...engine }));
  }
  return { totalMs: performance.now() - t0, steps };
}

async function runWorkflow(repo: string) {
  const env = await startTemporal();
  const workers = await startWorkers(env, await tempDir('modelship-bench-wf-'));
  try {
    const t0 = performance.now();
    const r = await startRelease(env.client, { repo, tag: 'v1.0.0', rollout: false });
    await r.handle.result();
    const totalMs = performance.now() - t0;
    const parent = (await r.handle.fetchHistory()).events ?? [];
    const child = (await env.client.workflow.getHandle(`${r.workflowId}/target/cpu`).fetchHistory()).events ?? [];
    const activities = [...activityTimings(parent), ...activityTimings(child)];
    const activityMs = activities.reduce((a, x) => a + x.runMs, 0);
    return { totalMs, activities, activityMs, orchestrationMs: totalMs - activityMs };
  } finally {
    await workers.stop();
    await env.teardown();
  }
}

const repo = await makeModelRepo(await tempDir('modelship-bench-repo-'), {
  editManifest: (y) => y.replace('precisions: [fp32, int8]', `precisions: [${precisions.join(', ')}]`),
});
const script = await runScript(repo);
const workflow = await runWorkflow(repo);
const report = {
  bench: 'overhead',
  machine: { host: hostname(), cpu: cpus()[0]?.model, cores: cpus().length },
  precisions,
  scriptMs: Math.round(script.totalMs),
  workflowMs: Math.round(workflow.totalMs),
  ratio: Number((workflow.totalMs / script.totalMs).toFixed(3)),
  workflowActivityMs: Math.round(workflow.activityMs),
  orchestrationMs: Math.round(workflow.orchestrationMs),
  scriptSteps: Object.fromEntries(Object.entries(script.steps).map(([k, v]) => [k, Math.round(v)])),
  workflowActivities: workflow.activities,
  meanQueueLatencyMs: Math.round(workflow.activities.reduce((a, x) => a + x.queueMs, 0) / workflow.activities.length),
};
await mkdir(resultsDir, { recursive: true });
const file = join(resultsDir, `overhead-${new Date().toISOString().slice(0, 10)}.json`);
await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
console.log(`script ${report.scriptMs} ms, workflow ${report.workflowMs} ms, ratio ${report.ratio}`);
console.log(`workflow: ${report.workflowActivityMs} ms inside activities (these also clone, archive, upload and package, which the script does not), ${report.orchestrationMs} ms outside them (workflow tasks, child workflow, signals); mean queue latency ${report.meanQueueLatencyMs} ms`);
for (const a of workflow.activities) console.log(`  ${a.name.padEnd(16)} queue ${String(a.queueMs).padStart(5)} ms  run ${String(a.runMs).padStart(6)} ms`);
console.log(`wrote ${file}`);
