/**
 * `modelship demo`: the main job on the embedded defaults — local Temporal dev server, local
 * artifact folder, the digits example — from a git tag to packaged fp32 and int8 engines.
 *
 * @module
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { Client, Connection } from '@temporalio/client';
import { statusQuery, type ReleaseStatus } from '../../lib/release.ts';
import { workflowUiUrl } from '../connection.ts';
import { startDevStack } from '../dev.ts';
import { startRelease } from '../release/start-release.ts';
import { watchRelease } from '../release/watch.ts';
import { trainAndTag } from './prepare-repo.ts';

/** Options of the demo. */
export interface DemoOptions {
  home: string;
  keepRunning: boolean;
  tag: string;
}

/** Runs the demo; resolves with the release's final status. */
export async function runDemo({ home, keepRunning, tag }: DemoOptions): Promise<ReleaseStatus> {
  const stack = await startDevStack(home);
  console.log(`Temporal dev server at ${stack.address}; UI ${stack.uiUrl}`);
  try {
    const repo = resolve(home, 'demo', 'digits');
    await trainAndTag({ dir: repo, tag });
    const connection = await Connection.connect({ address: stack.address });
    const client = new Client({ connection });
    const r = await startRelease(client, { repo, tag, requestedBy: 'demo' });
    console.log(`${r.started ? 'started' : 'found'} ${r.workflowId}\n  UI: ${workflowUiUrl(r.workflowId)}`);
    await watchRelease(r.handle, (line) => console.log(`  ${line}`));
    const status = await r.handle.result().catch(async (err: Error) => {
      const s = await r.handle.query(statusQuery).catch(() => undefined);
      throw new Error(`release failed${s?.failure ? ` at ${s.failure.step}: ${s.failure.message}` : `: ${err.message}`}`);
    });
    await connection.close();
    console.log(`\n${status.model} ${status.tag} is ${status.stage} (commit ${status.commit?.slice(0, 12)}):`);
    for (const p of status.packages) {
      const meta = JSON.parse(await readFile(join(fileURLToPath(p.uri), 'metadata.json'), 'utf8').catch(() => '{}')) as {
        parity?: { verdict?: string; samples?: number; stats?: { maxAbs?: number; top1?: { rate?: number } } };
      };
      const parity = meta.parity;
      const top1 = parity?.stats?.top1?.rate !== undefined ? `, top-1 agreement ${(parity.stats.top1.rate * 100).toFixed(2)}%` : '';
      console.log(`  ${p.target}-${p.precision}: ${fileURLToPath(p.uri)}`);
      if (parity) console.log(`    parity ${parity.verdict} on ${parity.samples} samples (max_abs ${parity.stats?.maxAbs?.toExponential(2)}${top1})`);
    }
    console.log(`  UI: ${workflowUiUrl(r.workflowId)}`);
    if (keepRunning) {
      console.log('\nthe dev stack keeps running (--keep-running); Ctrl-C stops it');
      await stack.running;
    }
    return status;
  } finally {
    if (!keepRunning) await stack.stop();
  }
}

/** Adds the `demo` command. */
export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('the main job: dev stack, digits example trained and tagged, released to packaged fp32 + int8')
    .option('--keep-running', 'leave the dev server and workers running afterwards (UI on :8233)')
    .option('--home <dir>', 'where the dev stack keeps its state', '.modelship')
    .option('--tag <tag>', 'tag to train and release', 'v1.0.0')
    .action(async (opts: { keepRunning?: boolean; home: string; tag: string }) => {
      await runDemo({ home: opts.home, keepRunning: Boolean(opts.keepRunning), tag: opts.tag });
    });
}
