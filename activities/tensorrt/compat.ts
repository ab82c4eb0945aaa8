/**
 * The compatibility lock of a TensorRT package and the fleet check made before traffic moves: an
 * engine loads only under the TensorRT release that built it and (hardware compatibility `none`)
 * only on its GPU architecture. Pure (no I/O), so an activity or a workflow-side helper can call it.
 *
 * @module
 */
import type { z } from 'zod';
import type { CompatibilityLockSchema } from '../../lib/package-metadata.ts';

/** What metadata.json records under `compatibility` for a tensorrt package (lib/package-metadata.ts). */
export type CompatibilityLock = z.infer<typeof CompatibilityLockSchema>;

/** A serving host as reported by the toolkit's `doctor` (only the fields read here). */
export interface FleetHost {
  host: { hostname: string };
  versions?: Record<string, string | null>;
  tensorrt?: { version: string | null } | null;
  cuda: { available: boolean; version?: string | null; driver?: string | null; devices: { index: number; name?: string; computeCapability: string; arch?: string }[] };
}

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

function release(v: string): string {
  return v.split('.').slice(0, 3).concat(['0', '0', '0']).slice(0, 3).join('.');
}

function ccTuple(cc: string): [number, number] {
  const [a, b] = cc.split('.').map(Number);
  return [a ?? 0, b ?? 0];
}

/** Whether an engine locked to `lock` loads on a GPU of compute capability `cc`. */
export function gpuFits(lock: Pick<CompatibilityLock, 'computeCapability' | 'hardwareCompatibility'>, cc: string): boolean {
  const [maj, min] = ccTuple(cc);
  if (/^ampere[+_]?(plus)?$/i.test(lock.hardwareCompatibility) || lock.hardwareCompatibility === 'ampere+') return maj >= 8;
  const [bmaj, bmin] = ccTuple(lock.computeCapability);
  return maj === bmaj && min === bmin;
}

/**
 * Checks every serving host against a package's metadata before traffic moves to it. A
 * non-TensorRT package fits every host. Each refusal names the engine's and the host's
 * architecture and TensorRT version.
 */
export function checkFleetCompatibility(metadata: { backend: string; compatibility?: CompatibilityLock | null }, hosts: readonly FleetHost[]): FleetCompatibility {
  const names = hosts.map((h) => h.host.hostname);
  if (metadata.backend !== 'tensorrt') return { ok: true, compatible: names, incompatible: [], summary: `${metadata.backend} package: no GPU lock` };
  const lock = metadata.compatibility;
  if (!lock) {
    const reason = 'metadata.json has no compatibility lock (TensorRT version, compute capability): rebuild and repackage the engine';
    return { ok: false, compatible: [], incompatible: names.map((host) => ({ host, reason })), summary: reason };
  }
  const built = `${lock.arch} with TensorRT ${lock.tensorrt}`;
  const compatible: string[] = [];
  const incompatible: FleetIncompatibility[] = [];
  for (const h of hosts) {
    const name = h.host.hostname;
    const trt = h.tensorrt?.version ?? h.versions?.tensorrt ?? null;
    const gpus = h.cuda.available ? h.cuda.devices : [];
    const archs = [...new Set(gpus.map((d) => d.arch ?? `sm${d.computeCapability.replace('.', '')}`))].join('/') || 'no GPU';
    const here = `${archs} with ${trt ? `TensorRT ${trt}` : 'no TensorRT'}`;
    if (gpus.length === 0) incompatible.push({ host: name, reason: `engine built for ${built}; ${name} is ${here}` });
    else if (!trt || release(trt) !== release(lock.tensorrt)) {
      incompatible.push({ host: name, reason: `engine built for ${built}; ${name} is ${here}: engines load only under the TensorRT release that built them` });
    } else if (!gpus.every((d) => gpuFits(lock, d.computeCapability))) {
      incompatible.push({ host: name, reason: `engine built for ${built}; ${name} is ${here}: hardware compatibility ${lock.hardwareCompatibility} runs only on ${lock.arch}` });
    } else compatible.push(name);
  }
  const ok = incompatible.length === 0 && hosts.length > 0;
  const summary = ok
    ? `${compatible.length} host(s) fit ${built}`
    : hosts.length === 0
      ? 'no serving hosts reported'
      : `${incompatible.length} of ${hosts.length} host(s) cannot load the engine: ${incompatible.map((i) => i.reason).join('; ')}`;
  return { ok, compatible, incompatible, summary };
}
