/**
 * `modelship release diff <model> <tagA> <tagB>`: two releases side by side — commit, stage,
 * runtime versions, and per engine both had: parity, engine size, latency and throughput per batch.
 *
 * @module
 */
import type { Command } from 'commander';
import type { Client } from '@temporalio/client';
import { collectReportData, type EngineEvidence } from '../../activities/report/report-data.ts';
import { storeReportSources, type ReadJson } from '../../activities/report/store-sources.ts';
import { fmt } from '../../activities/report/svg-charts.ts';
import { openArtifactStore } from '../../activities/store/open-store.ts';
import type { ArtifactStore } from '../../activities/store/artifact-store.ts';
import type { ReleaseStatus } from '../../lib/release.ts';
import { connectClient, temporalTarget } from '../connection.ts';
import { readReleaseStatus, storeJsonReader } from './read-release.ts';

/** One compared quantity. */
export interface DiffRow {
  field: string;
  a: string;
  b: string;
  /** `b / a` for numbers, as `+12%`; empty otherwise. */
  change: string;
}

/** One side: a release's status, its engines' evidence and their metadata. */
export interface DiffSide {
  status: ReleaseStatus;
  engines: EngineEvidence[];
  metadata: Record<string, { runtime?: Record<string, string>; files?: Record<string, { bytes: number }>; engine?: string }>;
}

function change(a: number | undefined, b: number | undefined): string {
  if (a === undefined || b === undefined || a === 0) return '';
  const pct = ((b - a) / Math.abs(a)) * 100;
  return `${pct >= 0 ? '+' : ''}${pct.toFixed(Math.abs(pct) < 10 ? 1 : 0)}%`;
}

function row(field: string, a: number | string | undefined, b: number | string | undefined): DiffRow {
  const show = (v: number | string | undefined) => (v === undefined ? '-' : typeof v === 'number' ? fmt(v) : v);
  return { field, a: show(a), b: show(b), change: typeof a === 'number' && typeof b === 'number' ? change(a, b) : a === b ? '' : 'changed' };
}

/** The rows comparing two releases. */
export function diffRows(a: DiffSide, b: DiffSide): DiffRow[] {
  const rows = [row('commit', a.status.commit?.slice(0, 12), b.status.commit?.slice(0, 12)), row('stage', a.status.stage, b.status.stage)];
  const names = [...new Set([...a.engines, ...b.engines].map((e) => `${e.target}-${e.precision}`))];
  for (const name of names) {
    const ea = a.engines.find((e) => `${e.target}-${e.precision}` === name);
    const eb = b.engines.find((e) => `${e.target}-${e.precision}` === name);
    const ma = a.metadata[name];
    const mb = b.metadata[name];
    rows.push(row(`${name} packaged`, ea ? 'yes' : 'no', eb ? 'yes' : 'no'));
    if (!ea || !eb) continue;
    rows.push(row(`${name} parity`, ea.parity?.verdict, eb.parity?.verdict));
    rows.push(row(`${name} maxAbs`, ea.parity?.stats.maxAbs, eb.parity?.stats.maxAbs));
    rows.push(row(`${name} top-1 agreement`, ea.parity?.stats.top1?.rate, eb.parity?.stats.top1?.rate));
    rows.push(row(`${name} engine bytes`, ma?.engine ? ma.files?.[ma.engine]?.bytes : undefined, mb?.engine ? mb.files?.[mb.engine]?.bytes : undefined));
    const batches = [...new Set([...(ea.bench?.shapes ?? []), ...(eb.bench?.shapes ?? [])].map((s) => s.batch))].sort((x, y) => x - y);
    for (const batch of batches) {
      const sa = ea.bench?.shapes.find((s) => s.batch === batch);
      const sb = eb.bench?.shapes.find((s) => s.batch === batch);
      rows.push(row(`${name} batch ${batch} p99 ms`, sa?.latencyMs.p99, sb?.latencyMs.p99));
      rows.push(row(`${name} batch ${batch} samples/s`, sa?.throughputPerSec, sb?.throughputPerSec));
    }
    const versions = [...new Set([...Object.keys(ma?.runtime ?? {}), ...Object.keys(mb?.runtime ?? {})])].sort();
    for (const v of versions) if (ma?.runtime?.[v] !== mb?.runtime?.[v]) rows.push(row(`${name} ${v}`, ma?.runtime?.[v], mb?.runtime?.[v]));
  }
  return rows;
}

/** The rows as an aligned table headed by the two tags. */
export function formatDiff(tagA: string, tagB: string, rows: DiffRow[]): string {
  const head = ['', tagA, tagB, 'change'];
  const cells = rows.map((r) => [r.field, r.a, r.b, r.change]);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  return [head, ...cells].map((c) => c.map((v, i) => v.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

/** Reads one side from Temporal and the store. */
export async function readDiffSide(client: Client, store: ArtifactStore, json: ReadJson, model: string, tag: string): Promise<DiffSide> {
  const status = await readReleaseStatus(client, model, tag);
  const data = await collectReportData({ ...status, rollout: undefined }, storeReportSources(store, json, model, tag));
  const metadata: DiffSide['metadata'] = {};
  for (const p of status.packages) metadata[`${p.target}-${p.precision}`] = (await json(p.metadata)) as DiffSide['metadata'][string];
  return { status, engines: data.engines, metadata };
}

/** Adds `release diff`. */
export function registerDiffCommand(release: Command, program: Command): void {
  release
    .command('diff <model> <tagA> <tagB>')
    .description('two releases of a model side by side: parity, engine size, latency and throughput per batch, runtime versions')
    .option('--json', 'print the rows as JSON')
    .action(async (model: string, tagA: string, tagB: string, opts: { json?: boolean }) => {
      const client = await connectClient(temporalTarget(program.opts()));
      const store = openArtifactStore();
      const json = storeJsonReader(store);
      const [a, b] = [await readDiffSide(client, store, json, model, tagA), await readDiffSide(client, store, json, model, tagB)];
      const rows = diffRows(a, b);
      console.log(opts.json ? JSON.stringify(rows, null, 2) : formatDiff(tagA, tagB, rows));
    });
}
