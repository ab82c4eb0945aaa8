/**
 * Figures of every package a GPU run wrote (build time, parity, latency per shape, throughput,
 * GPU memory), read from the run's reports, as JSON and as a Markdown table.
 *
 *   node --import tsx scripts/gpu/summarize.ts <results/reports/artifacts/packages> [--json out.json]
 *
 * @module
 */
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { packageSummary, type PackageSummary } from './package-summary.ts';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { json: { type: 'string' } } });
const root = positionals[0];
if (!root) throw new Error('usage: summarize.ts <packages folder> [--json out.json]');

const rows: Array<PackageSummary & { release: string }> = [];
for (const model of (await readdir(root)).sort()) {
  for (const tag of (await readdir(join(root, model))).sort()) {
    for (const pkg of (await readdir(join(root, model, tag))).sort()) {
      if (pkg === 'decisions' || pkg.endsWith('.json')) continue;
      const s = await packageSummary(join(root, model, tag, pkg));
      rows.push({ ...s, package: `${model}/${tag}/${pkg}`, release: `${model} ${tag}` });
    }
  }
}
const fmt = (x: number | null | undefined, d = 3) => (x === null || x === undefined ? '–' : Number(x.toPrecision(d)).toString());
console.log('| package | build s | cache | parity max_abs | top-1 | verdict | p50 / p99 ms per shape | best throughput/s | peak GPU MiB |');
console.log('|---|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  const shapes = r.bench.map((b) => `${Object.values(b.shape)[0]!.join('x')}: ${fmt(b.p50Ms)}/${fmt(b.p99Ms)}`).join('; ');
  const best = Math.max(0, ...r.bench.map((b) => b.throughputPerSec));
  const gpu = r.backend === 'tensorrt' && r.peakMemoryBytes ? fmt(r.peakMemoryBytes / 2 ** 20, 4) : '–';
  console.log(
    `| ${r.package} | ${fmt(r.build.seconds)} | ${r.build.cacheHit === null ? '–' : r.build.cacheHit ? 'hit' : 'miss'} | ${r.parity.maxAbs.toExponential(2)} | ${r.parity.top1 === null ? '–' : `${(r.parity.top1 * 100).toFixed(1)}%`} | ${r.parity.verdict} | ${shapes} | ${Math.round(best)} | ${gpu} |`,
  );
}
if (values.json) await writeFile(values.json, `${JSON.stringify(rows, null, 2)}\n`);
