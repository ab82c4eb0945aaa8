/**
 * What a release report shows, gathered from the release's status and the files its packages
 * hold (parity.json, bench.json) — and, for the latency comparison, the bench.json of the version
 * that was stable when the rollout began.
 *
 * @module
 */
import type { Precision } from '../../lib/manifest.ts';
import type { PackagedEngine, ReleaseStatus } from '../../lib/release.ts';
import { BenchReportSchema, ParityReportSchema, type BenchReport, type ParityReport } from '../../lib/toolkit-contract.ts';
import type { z } from 'zod';

/** parity.json as packages keep it: the toolkit's report without its duration (so a retried step writes the same bytes). */
const StoredParitySchema = ParityReportSchema.omit({ durationMs: true });

/** One engine's evidence. */
export interface EngineEvidence {
  target: string;
  precision: Precision;
  parity?: Omit<ParityReport, 'durationMs'>;
  bench?: BenchReport;
  /** The stable version's bench of the same target and precision (the rollout's comparison). */
  stable?: { version: string; bench: BenchReport };
}

/** Everything a report is drawn from. */
export interface ReportData {
  status: ReleaseStatus;
  engines: EngineEvidence[];
  /** Files that were there but not what their schema says (named, and left out of the plots). */
  problems: string[];
}

/** Where the evidence is read from (the artifact store in the activity, files in tests). */
export interface ReportSources {
  /** A JSON file of one of this release's packages, or undefined when the package has none. */
  packageJson(pkg: PackagedEngine, file: 'parity.json' | 'bench.json'): Promise<unknown>;
  /** bench.json of another version's package of the model, or undefined. */
  versionBench(model: string, version: string, target: string, precision: Precision): Promise<unknown>;
}

/** Reads the evidence of every package of the release. */
export async function collectReportData(status: ReleaseStatus, sources: ReportSources): Promise<ReportData> {
  const stableVersion = status.rollout?.stableVersion;
  const engines: EngineEvidence[] = [];
  const problems: string[] = [];
  const valid = <T>(schema: z.ZodType<T>, value: unknown, where: string): T | undefined => {
    if (value === undefined) return undefined;
    const r = schema.safeParse(value);
    if (r.success) return r.data;
    const issue = r.error.issues[0]!;
    problems.push(`${where}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
    return undefined;
  };
  for (const pkg of status.packages) {
    const name = `${pkg.target}-${pkg.precision}`;
    const parity = valid(StoredParitySchema, await sources.packageJson(pkg, 'parity.json'), `${name}/parity.json`);
    const bench = valid(BenchReportSchema, await sources.packageJson(pkg, 'bench.json'), `${name}/bench.json`);
    const stableBench =
      stableVersion && status.model
        ? valid(BenchReportSchema, await sources.versionBench(status.model, stableVersion, pkg.target, pkg.precision), `${stableVersion}/${name}/bench.json`)
        : undefined;
    engines.push({
      target: pkg.target,
      precision: pkg.precision,
      ...(parity ? { parity } : {}),
      ...(bench ? { bench } : {}),
      ...(stableVersion && stableBench ? { stable: { version: stableVersion, bench: stableBench } } : {}),
    });
  }
  return { status, engines, problems };
}
