/**
 * `modelship demo`: the main job on the embedded defaults — local Temporal dev server, local
 * artifact folder, local serving runtime and Prometheus, the digits example:
 *
 * 1. v1.0.0 is trained, tagged, released to packaged fp32 + int8, approved and promoted (the first
 *    release of the model: one approval, then 100%);
 * 2. traffic starts (the held-out digits, with labels);
 * 3. v1.1.0 (retrained) goes shadow → 1% → 5% → 25% → 100%, each step approved through the same
 *    Update a person sends from the UI or the CLI, and is promoted;
 * 4. v1.2.0, trained on shuffled labels (with its acceptance gate relaxed, as a careless commit
 *    would), is caught by the analysis and rolled back automatically while v1.1.0 keeps serving.
 *
 * @module
 */
import { readFile, writeFile } from 'node:fs/promises';
import { loadConfig } from '../../lib/config.ts';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { Client, Connection } from '@temporalio/client';
import type { Precision } from '../../lib/manifest.ts';
import type { ReleaseStatus } from '../../lib/release.ts';
import { approveUpdate, rolloutWorkflowId } from '../../lib/rollout.ts';
import { workflowUiUrl } from '../connection.ts';
import { DEFAULT_PORTS, startDevStack, type DevStack } from '../dev.ts';
import { startRelease } from '../release/start-release.ts';
import { formatDecision, watchRelease } from '../release/watch.ts';
import { withGpuTarget } from './gpu-manifest.ts';
import { trainAndTag } from './prepare-repo.ts';
import { startTraffic } from './traffic.ts';

/** Options of the demo. */
export interface DemoOptions {
  home: string;
  keepRunning: boolean;
  /** Stop after the first release is packaged and promoted. */
  short: boolean;
  /**
   * On a GPU host: run a GPU worker too, add a TensorRT target (fp32, fp16, int8) to the manifest
   * and serve its fp16 engine, so the shadow, canary and rollback run on TensorRT.
   */
  gpu?: boolean;
  /** With `gpu`: the TensorRT target's precisions (default fp32, fp16, int8; fp16 is served). */
  gpuPrecisions?: Precision[];
  /** A stack started by the caller (left running afterwards); default: the demo starts its own. */
  stack?: DevStack;
}

/** Approvers the demo acts as, taking turns, as people would. */
const APPROVERS = ['alice', 'bob'];

/**
 * Starts (or finds) the release of `tag`, prints its steps and decisions, approves each waiting
 * rollout step as alice or bob, and resolves with the final status.
 */
export async function releaseAndApprove(client: Client, repo: string, tag: string, options: { rollout?: boolean } = {}): Promise<ReleaseStatus> {
  const r = await startRelease(client, { repo, tag, requestedBy: 'demo', ...options });
  console.log(`\n== ${r.workflowId} (${r.started ? 'started' : 'found'})\n   UI: ${workflowUiUrl(r.workflowId)}`);
  let turn = 0;
  await watchRelease(client, r.handle, {
    print: (line) => console.log(`   ${line}`),
    onAwaiting: async (rollout) => {
      const by = APPROVERS[turn++ % APPROVERS.length]!;
      const step = rollout.awaiting!.step;
      // The same Update a person sends from the Temporal UI or `modelship release approve`.
      await client.workflow
        .getHandle(rolloutWorkflowId(r.workflowId))
        .executeUpdate(approveUpdate, { args: [{ by, step, reason: step === 0 ? 'first release of digits' : 'dashboards look normal' }] })
        .catch((err: Error) => console.log(`   approval refused: ${err.message}`));
    },
  });
  const status = await r.handle.result();
  console.log(`   => ${status.model} ${status.tag}: ${status.stage}`);
  if (status.report?.html.uri.startsWith('file:')) console.log(`   report: ${fileURLToPath(status.report.html.uri)} (plots, open in a browser; Markdown beside it)`);
  return status;
}

/** Runs the demo; resolves with the final status of each release. */
export async function runDemo({ home, keepRunning, short, gpu = false, gpuPrecisions, stack: given }: DemoOptions): Promise<ReleaseStatus[]> {
  const stack = given ?? (await startDevStack(home, DEFAULT_PORTS, { gpu }));
  console.log(`Temporal dev server ${stack.address} (UI ${stack.uiUrl}); serving runtime ${stack.runtime.url}; metrics: ${stack.metricsSource}`);
  const arch = stack.gpu?.host.arch;
  if (gpu && !arch) throw new Error('demo --gpu: the stack has no GPU worker (start it with the gpu option)');
  if (stack.gpu) console.log(`GPU worker ${stack.gpu.description}`);
  const results: ReleaseStatus[] = [];
  const connection = await Connection.connect({ address: stack.address });
  const client = new Client({ connection });
  const repo = resolve(home, 'demo', 'digits');
  let traffic: Awaited<ReturnType<typeof startTraffic>> | undefined;
  try {
    await trainAndTag({
      dir: repo,
      tag: 'v1.0.0',
      ...(gpu && arch
        ? {
            prepare: async (dir: string) => {
              const file = join(dir, 'modelship.yaml');
              await writeFile(file, withGpuTarget(await readFile(file, 'utf8'), arch, gpuPrecisions));
            },
          }
        : {}),
    });
    const first = await releaseAndApprove(client, repo, 'v1.0.0');
    results.push(first);
    for (const p of first.packages) {
      const meta = JSON.parse(await readFile(join(fileURLToPath(p.uri), 'metadata.json'), 'utf8')) as { parity: { verdict: string; samples: number; stats: { maxAbs: number; top1?: { rate: number } } } };
      const top1 = meta.parity.stats.top1 ? `, top-1 agreement ${(meta.parity.stats.top1.rate * 100).toFixed(2)}%` : '';
      console.log(`   package ${p.target}-${p.precision}: ${fileURLToPath(p.uri)}\n     parity ${meta.parity.verdict} on ${meta.parity.samples} samples (max_abs ${meta.parity.stats.maxAbs.toExponential(2)}${top1})`);
    }
    if (!short) {
      traffic = await startTraffic({ url: stack.runtime.url, model: 'digits', data: join(repo, 'data', 'heldout.npz'), rate: 80, log: join(home, 'demo', 'traffic.log') });
      console.log(`\ntraffic: replaying the held-out digits at 80 requests/s with labels (log ${join(home, 'demo', 'traffic.log')})`);

      await trainAndTag({ dir: repo, tag: 'v1.1.0', trainArgs: ['--epochs', '20', '--seed', '7'] });
      results.push(await releaseAndApprove(client, repo, 'v1.1.0'));

      await trainAndTag({
        dir: repo,
        tag: 'v1.2.0',
        trainArgs: ['--shuffle-labels'],
        prepare: async (dir) => {
          // A careless commit relaxes the acceptance gate, so only the live analysis can stop it.
          const file = join(dir, 'modelship.yaml');
          await writeFile(file, (await readFile(file, 'utf8')).replace(/val_accuracy >= [0-9.]+/, 'val_accuracy >= 0.05'));
        },
      });
      results.push(await releaseAndApprove(client, repo, 'v1.2.0'));
    }

    console.log('\n== What happened, from the decision records');
    for (const s of results) {
      console.log(`${s.model} ${s.tag}: ${s.stage}`);
      for (const d of s.rollout?.decisions ?? []) {
        if (['approval', 'shadow-gate', 'rollback', 'promotion', 'verification'].includes(d.kind) || d.verdict === 'fail') console.log(`   ${formatDecision(d)}`);
      }
    }
    const state = await fetch(`${stack.runtime.url}/v2/models/digits`).then((r) => r.json() as Promise<{ versions?: string[] }>).catch(() => undefined);
    // A second run finds every release done and starts a fresh runtime that nothing has loaded into.
    const serving = state?.versions?.length ? JSON.stringify(state.versions) : 'nothing: the runtime started empty and every release was already done (tag a new version, or start from a fresh MODELSHIP_HOME)';
    console.log(`serving now: ${serving}\nUI: ${stack.uiUrl}`);
    if (keepRunning) {
      console.log('\nthe dev stack keeps running (--keep-running); Ctrl-C stops it');
      await stack.running;
    }
    return results;
  } finally {
    await traffic?.stop();
    await connection.close();
    if (!keepRunning && !given) await stack.stop();
  }
}

/** Adds the `demo` command. */
export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('the main job: dev stack; digits v1.0.0 released and promoted; v1.1.0 through shadow and canary; a bad v1.2.0 rolled back')
    .option('--keep-running', 'leave the dev server, workers and runtime running afterwards (UI on :8233)')
    .option('--short', 'stop after v1.0.0 is packaged and promoted')
    .option('--gpu', 'on a GPU host with TensorRT: add a TensorRT target (fp32, fp16, int8) and serve its fp16 engine')
    .option('--home <dir>', 'where the dev stack keeps its state (default $MODELSHIP_HOME or .modelship)', loadConfig().home)
    .action(async (opts: { keepRunning?: boolean; home: string; short?: boolean; gpu?: boolean }) => {
      await runDemo({ home: opts.home, keepRunning: Boolean(opts.keepRunning), short: Boolean(opts.short), gpu: Boolean(opts.gpu) });
    });
}
