/**
 * The compatibility lock of a TensorRT package: written at package time from the build report, and
 * read by the serving runtime, which owns the rule (an engine loads only under the TensorRT release
 * that built it and, with hardware compatibility `none`, only on its GPU architecture:
 * toolkit/modelship_toolkit/serve/package.py `check_tensorrt_compat`). Before traffic moves, the
 * rollout asks each serving host (`POST /admin/fits`) and {@link fleetVerdict} sums the answers.
 *
 * @module
 */
import type { z } from 'zod';
import type { CompatibilityLockSchema } from '../../lib/package-metadata.ts';
import type { RuntimeFit } from '../../lib/runtime-admin.ts';

/** What metadata.json records under `compatibility` for a tensorrt package (lib/package-metadata.ts). */
export type CompatibilityLock = z.infer<typeof CompatibilityLockSchema>;

/** Why one host cannot serve the package. */
export interface FleetIncompatibility {
  host: string;
  reason: string;
}

/** The fleet verdict. */
export interface FleetCompatibility {
  ok: boolean;
  compatible: string[];
  incompatible: FleetIncompatibility[];
  /** One line for the decision record. */
  summary: string;
}

/** Builds the lock from a build report (build.json of a tensorrt build). */
export function compatibilityLock(buildReport: Record<string, unknown>): CompatibilityLock | null {
  const versions = (buildReport.versions ?? {}) as Record<string, string | undefined>;
  const gpu = (buildReport.gpu ?? {}) as { computeCapability?: string; arch?: string };
  if (!versions.tensorrt || !gpu.computeCapability) return null;
  return {
    tensorrt: versions.tensorrt,
    cuda: versions.cuda ?? null,
    driver: versions.nvidiaDriver ?? null,
    computeCapability: gpu.computeCapability,
    arch: gpu.arch ?? `sm${gpu.computeCapability.replace('.', '')}`,
    hardwareCompatibility: typeof buildReport.hardwareCompatibility === 'string' ? buildReport.hardwareCompatibility : 'none',
  };
}

function describeHost(fit: RuntimeFit): string {
  return `${fit.host} (${fit.arch ?? 'no GPU'} with ${fit.tensorrt ? `TensorRT ${fit.tensorrt}` : 'no TensorRT'})`;
}

/**
 * Sums the serving hosts' answers for one package: it may go out only when every host fits, and
 * there is at least one. Each refusal keeps the host's own reason.
 */
export function fleetVerdict(backend: string, fits: readonly RuntimeFit[]): FleetCompatibility {
  const compatible = fits.filter((f) => f.fits).map((f) => f.host);
  const incompatible = fits.filter((f) => !f.fits).map((f) => ({ host: f.host, reason: `${f.host}: ${f.reason ?? 'does not fit'}` }));
  const ok = incompatible.length === 0 && fits.length > 0;
  const summary = ok
    ? backend === 'tensorrt'
      ? `${compatible.length} host(s) fit the engine: ${fits.map(describeHost).join(', ')}`
      : `${backend} package: no GPU lock; ${compatible.length} host(s) fit`
    : fits.length === 0
      ? 'no serving hosts reported'
      : `${incompatible.length} of ${fits.length} host(s) cannot load the engine: ${incompatible.map((i) => i.reason).join('; ')}`;
  return { ok, compatible, incompatible, summary };
}
