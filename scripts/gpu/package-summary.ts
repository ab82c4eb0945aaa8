/**
 * One line of figures per release package, read from its reports: build time, parity, latency per
 * shape, throughput and peak memory. Used by the GPU run's summary.json.
 *
 * @module
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BenchReportSchema, ParityReportSchema } from '../../lib/toolkit-contract.ts';

/** The figures of one package. */
export interface PackageSummary {
  package: string;
  backend: string;
  precision: string;
  build: { seconds: number | null; cacheHit: boolean | null; engineBytes: number | null };
  parity: { verdict: string; samples: number; maxAbs: number; top1: number | null; top5: number | null; engineAccuracy: number | null; reference: string | null };
  bench: Array<{ shape: Record<string, number[]>; p50Ms: number; p99Ms: number; throughputPerSec: number }>;
  peakMemoryBytes: number | null;
  compatibility: unknown;
}

const readJson = async (path: string): Promise<Record<string, unknown> | undefined> =>
  JSON.parse(await readFile(path, 'utf8').catch(() => 'null')) ?? undefined;

/** Reads `dir`'s metadata.json, build.json, parity.json and bench.json. */
export async function packageSummary(dir: string): Promise<PackageSummary> {
  const metadata = (await readJson(join(dir, 'metadata.json'))) ?? {};
  const build = (await readJson(join(dir, 'build.json'))) ?? {};
  // Packages keep the reports as the steps wrote them; read the fields, not the whole contract.
  const parity = ParityReportSchema.pick({ backend: true, precision: true, samples: true, stats: true, verdict: true, devices: true }).parse(await readJson(join(dir, 'parity.json')));
  const benchJson = await readJson(join(dir, 'bench.json'));
  const bench = benchJson ? BenchReportSchema.pick({ shapes: true, peakMemoryBytes: true, gpu: true }).parse(benchJson) : undefined;
  const trtexec = build.trtexec as { buildSeconds?: number | null } | undefined;
  const cache = build.cache as { hit?: boolean } | undefined;
  const engine = build.engine as { bytes?: number } | undefined;
  return {
    package: dir,
    backend: String(metadata.backend ?? parity.backend),
    precision: String(metadata.precision ?? parity.precision),
    build: { seconds: trtexec?.buildSeconds ?? null, cacheHit: cache?.hit ?? null, engineBytes: engine?.bytes ?? null },
    parity: {
      verdict: parity.verdict,
      samples: parity.samples,
      maxAbs: parity.stats.maxAbs,
      top1: parity.stats.top1?.rate ?? null,
      top5: parity.stats.top5?.rate ?? null,
      engineAccuracy: parity.stats.engineAccuracy ?? null,
      reference: parity.devices ? `${parity.devices.reference} vs ${parity.devices.engine}` : null,
    },
    bench: (bench?.shapes ?? []).map((s) => ({ shape: s.shape, p50Ms: s.latencyMs.p50, p99Ms: s.latencyMs.p99, throughputPerSec: s.throughputPerSec })),
    peakMemoryBytes: bench?.gpu?.peakMemoryBytes ?? bench?.peakMemoryBytes ?? null,
    compatibility: metadata.compatibility ?? null,
  };
}
