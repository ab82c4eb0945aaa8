/**
 * What a GPU worker has: its GPUs (all of one architecture), the TensorRT version trtexec runs,
 * CUDA and the driver, found through the toolkit's `doctor` and the trtexec banner; and the task
 * queues that follow from them.
 *
 * @module
 */
import { execa } from 'execa';
import { formatTensorRTVersion, parseBannerVersion, parseTensorRTVersion, type TensorRTVersion } from '../../lib/trtexec/index.ts';
import { runToolkit, type ToolkitConfig } from '../toolkit.ts';

/** One GPU of the worker. */
export interface GpuDevice {
  /** Physical index (nvidia-smi / NVML order); the job runs with `CUDA_VISIBLE_DEVICES=<index>`. */
  index: number;
  name: string;
  /** `9.0` */
  computeCapability: string;
  memoryBytes: number;
  freeBytes: number | null;
}

/** A GPU worker host as detected (or, in tests, handed in). */
export interface GpuHost {
  /** `sm90`: every GPU the worker uses has this architecture. */
  arch: string;
  /** `9.0` */
  computeCapability: string;
  tensorrt: TensorRTVersion;
  /** Where the TensorRT version was read: `python` (`import tensorrt`), `trtexec` (banner) or `override`. */
  tensorrtSource: 'python' | 'trtexec' | 'override';
  cuda: string | null;
  driver: string | null;
  devices: GpuDevice[];
  /** Whether the toolkit can read NVML (peak GPU memory of benchmarks). */
  nvml: boolean;
}

/** The TensorRT part of a queue name: `10.16.1` → `10.16`. */
export function trtQueueVersion(v: TensorRTVersion): string {
  return `${v.major}.${v.minor}`;
}

/**
 * The shared queues a GPU worker polls: by architecture AND TensorRT version (`gpu-sm90-trt10.16`)
 * and by architecture alone (`gpu-sm90`, what manifests name with `gpu: sm90`).
 */
export function gpuQueues(host: Pick<GpuHost, 'arch' | 'tensorrt'>): string[] {
  return [`gpu-${host.arch}-trt${trtQueueVersion(host.tensorrt)}`, `gpu-${host.arch}`];
}

/** A short line for logs: `2× NVIDIA H100 PCIe (sm90), TensorRT 10.16.1, CUDA 12.9, driver 575.57`. */
export function describeGpuHost(host: GpuHost): string {
  const names = [...new Set(host.devices.map((d) => d.name))].join(', ');
  return `${host.devices.length}× ${names} (${host.arch}), TensorRT ${formatTensorRTVersion(host.tensorrt)} (${host.tensorrtSource}), CUDA ${host.cuda ?? '?'}, driver ${host.driver ?? '?'}`;
}

/** Reads the TensorRT version from the trtexec banner (`&&&& RUNNING TensorRT.trtexec [TensorRT v101601]`). */
export async function trtexecBannerVersion(trtexecPath: string): Promise<TensorRTVersion | null> {
  // trtexec with no model prints the banner and its help, then exits non-zero.
  const r = await execa(trtexecPath, ['--help'], { reject: false, timeout: 30_000, all: true });
  const text = String(r.all ?? '');
  const line = /TensorRT version:\s*([\d.]+)/.exec(text);
  if (line) return parseTensorRTVersion(line[1]!);
  const banner = /\[TensorRT v(\d{4,6})\]/.exec(text);
  return banner ? parseBannerVersion(banner[1]!) : null;
}

/** What detection needs. */
export interface DetectOptions {
  toolkit: ToolkitConfig;
  trtexecPath: string;
  /** Only these GPU indices (default: every GPU of the first GPU's architecture). */
  indices?: number[];
}

/**
 * Finds the host's GPUs and software: devices, CUDA, driver and NVML from the toolkit's `doctor`;
 * the TensorRT version from `import tensorrt`, else the trtexec banner.
 *
 * @throws Error saying what is missing (no GPU, no TensorRT, mixed architectures)
 */
export async function detectGpuHost({ toolkit, trtexecPath, indices }: DetectOptions): Promise<GpuHost> {
  const doctor = await runToolkit(toolkit, 'doctor', {});
  const all = doctor.cuda.devices;
  if (!doctor.cuda.available || all.length === 0) {
    throw new Error(`no CUDA GPU found on this host (torch ${doctor.versions.torch ?? 'not installed'}, driver ${doctor.cuda.driver ?? 'none'}): a GPU worker needs one`);
  }
  const chosen = indices ? all.filter((d) => indices.includes(d.index)) : all.filter((d) => d.arch === all[0]!.arch);
  if (chosen.length === 0) throw new Error(`none of the GPUs ${indices?.join(', ')} exists (found ${all.map((d) => d.index).join(', ')})`);
  const archs = new Set(chosen.map((d) => d.arch));
  if (archs.size > 1) throw new Error(`GPUs of several architectures (${[...archs].join(', ')}): run one GPU worker per architecture with --gpus`);
  const pyVersion = doctor.tensorrt?.version ?? doctor.versions.tensorrt ?? null;
  let tensorrt = pyVersion ? parseTensorRTVersion(pyVersion) : null;
  let source: GpuHost['tensorrtSource'] = 'python';
  const banner = await trtexecBannerVersion(trtexecPath).catch(() => null);
  if (!tensorrt) {
    tensorrt = banner;
    source = 'trtexec';
  }
  if (!tensorrt) throw new Error(`TensorRT not found: python cannot import tensorrt and ${trtexecPath} printed no version banner (use --trtexec <path>)`);
  if (banner && (banner.major !== tensorrt.major || banner.minor !== tensorrt.minor)) {
    throw new Error(`trtexec (${formatTensorRTVersion(banner)}) and the tensorrt Python module (${formatTensorRTVersion(tensorrt)}) differ: engines built by one would not load in the other`);
  }
  return {
    arch: chosen[0]!.arch,
    computeCapability: chosen[0]!.computeCapability,
    tensorrt,
    tensorrtSource: source,
    cuda: doctor.cuda.version,
    driver: doctor.cuda.driver,
    devices: chosen.map((d) => ({ index: d.index, name: d.name, computeCapability: d.computeCapability, memoryBytes: d.memoryBytes, freeBytes: d.freeBytes })),
    nvml: doctor.tensorrt?.nvml ?? false,
  };
}

/** What the engine steps of a GPU worker run with. */
export interface GpuRuntime {
  host: GpuHost;
  /** One job per GPU. */
  slots: import('./gpu-slots.ts').GpuSlotPool;
  /** The trtexec to run. */
  trtexecPath: string;
}
