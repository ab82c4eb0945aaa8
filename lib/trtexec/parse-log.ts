/**
 * Parses trtexec's stdout/stderr (TensorRT 8.4 to 10.16, passes, failures and crashes) into a
 * {@link TrtexecLog}. The line formats that differ between versions are listed in
 * test/fixtures/trtexec/SOURCES.md; each is handled here:
 *
 * - lines that are not trtexec's (container banners, plugin traces) are skipped;
 * - the `[bNN]` banner tag is optional; the `TensorRT version:` line wins over the banner code;
 * - summary statistics are read from `[I]` lines in the `=== Performance summary ===` section only
 *   (the verbose "Explanations" block repeats the labels as `[V]`);
 * - both `--dumpProfile` table layouts (8.5: name first; 10.x: name last);
 * - `Input build shape:` (8.x) and `Input build shape (profile 0):` (10.x), and
 *   `Input inference shape :` with a space before the colon (10.14);
 * - trailing whitespace, CRLF.
 *
 * @module
 */
import { parseBannerVersion, formatTensorRTVersion } from './version.ts';
import { TrtexecLogSchema, type TimingStats, type TrtexecLog, type TrtexecStatus } from './log-schema.ts';

/** The text is not a trtexec log at all. */
export class TrtexecLogError extends Error {
  override readonly name = 'TrtexecLogError';
}

const LINE = /^\[(\d{2}\/\d{2}\/\d{4}-\d{2}:\d{2}:\d{2})\] \[([IWEVF])\] ?(.*)$/;
const BANNER = /^&&&& (RUNNING|PASSED|FAILED) TensorRT\.trtexec \[TensorRT v(\d+)\](?: \[b(\d+)\])? # (.*)$/;
const SECTION = /^=== (.+?) ===$/;
const NUM = String.raw`(-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)`;

const dims = (s: string): number[] => s.split('x').map(Number);
const enabled = (s: string | undefined): boolean | null => (s === undefined ? null : /^enabled$/i.test(s.trim()) ? true : /^disabled$/i.test(s.trim()) ? false : null);
const orNull = (s: string | undefined): string | null => (s === undefined || s.trim() === '' ? null : s.trim());

/** Parses `min = X ms, max = X ms, mean = X ms, median = X ms, percentile(90%) = X ms, ...`. */
export function parseTimingStats(text: string): TimingStats | null {
  const get = (key: string): number | null => {
    const m = new RegExp(String.raw`\b${key} = ${NUM} ms`).exec(text);
    return m ? Number(m[1]) : null;
  };
  const min = get('min');
  const max = get('max');
  const mean = get('mean');
  const median = get('median');
  if (min === null || max === null || mean === null || median === null) return null;
  const percentiles: Record<string, number> = {};
  for (const m of text.matchAll(new RegExp(String.raw`percentile\((\d+(?:\.\d+)?)%\) = ${NUM} ms`, 'g'))) {
    percentiles[m[1]!] = Number(m[2]);
  }
  return { min, max, mean, median, percentiles };
}

interface ParsedLine {
  level: string;
  text: string;
}

/**
 * Parses a whole trtexec log.
 *
 * @throws {@link TrtexecLogError} when the text has no trtexec line at all
 */
export function parseTrtexecLog(raw: string): TrtexecLog {
  const rawLines = raw.split(/\r?\n/);
  let status: TrtexecStatus | null = null;
  let bannerCode: number | null = null;
  let buildTag: string | null = null;
  let commandLine: string | null = null;
  let versionLine: string | null = null;
  let sawTrtexec = false;
  let section = '';
  let inErrorContinuation = false;

  const kv = new Map<string, string>();
  const buildShapes: TrtexecLog['options']['buildShapes'] = [];
  const inferenceShapes: Record<string, number[]> = {};
  const autoProfiles: TrtexecLog['options']['buildShapes'] = [];
  const device: { name: string | null; cc: string | null; mem: number | null; sms: number | null } = { name: null, cc: null, mem: null, sms: null };
  const engine: TrtexecLog['engine'] = {
    sizeMiB: null,
    loadedSizeMiB: null,
    buildSeconds: null,
    generationSeconds: [],
    deserializeSeconds: null,
    contextDeviceMemoryMiB: null,
  };
  const changes: TrtexecLog['memory']['changes'] = [];
  let allocatorPeak: TrtexecLog['memory']['allocatorPeak'] = null;
  const inference = { warmupQueries: null as number | null, warmupMs: null as number | null, queries: null as number | null, seconds: null as number | null };
  let sawInference = false;
  const perf = new Map<string, string>();
  let profile: TrtexecLog['profile'] = null;
  let profileNameFirst = false;
  const errors: string[] = [];
  const warnings: string[] = [];
  let lastLine: string | null = null;

  for (const rawLine of rawLines) {
    const line = rawLine.replace(/\s+$/, '');
    if (line !== '') lastLine = line;

    const b = BANNER.exec(line);
    if (b) {
      sawTrtexec = true;
      bannerCode = Number(b[2]);
      buildTag = b[3] !== undefined ? `b${b[3]}` : buildTag;
      commandLine = b[4]!.trim();
      if (b[1] === 'PASSED') status = 'passed';
      else if (b[1] === 'FAILED') status = 'failed';
      inErrorContinuation = false;
      continue;
    }

    const m = LINE.exec(line);
    if (!m) {
      // Not a trtexec line: container banner, plugin trace, or the continuation of an [E] message.
      if (inErrorContinuation && line.trim() !== '') errors.push(line.trim());
      continue;
    }
    sawTrtexec = true;
    const p: ParsedLine = { level: m[2]!, text: m[3]! };
    inErrorContinuation = p.level === 'E';
    if (p.level === 'E') errors.push(p.text.trim());
    if (p.level === 'W') warnings.push(p.text.trim());

    const text = p.text;
    const sec = SECTION.exec(text.trim());
    if (sec && p.level === 'I') {
      section = sec[1]!;
      if (section.startsWith('Profile (')) {
        const it = /Profile \((\d+) iterations/.exec(section);
        profile = { iterations: Number(it?.[1] ?? 0), layers: [], total: null };
      }
      continue;
    }
    if (sec) {
      // A [V] section such as the "Explanations of the performance metrics" block.
      section = sec[1]!;
      continue;
    }

    // Everything from here is specific to an info-level (or, for a few lines, verbose) message.
    if (profile && section.startsWith('Profile (') && p.level === 'I') {
      parseProfileRow(text, profile, (nameFirst) => (profileNameFirst = nameFirst), profileNameFirst);
      continue;
    }

    if (section === 'Performance summary' && p.level === 'I') {
      const pm = /^([A-Za-z0-9 ]+?): (.*)$/.exec(text.trim());
      if (pm) perf.set(pm[1]!, pm[2]!);
      continue;
    }

    let x: RegExpExecArray | null;
    if ((x = /\[MemUsageChange\] (.+?): CPU ([+-]?\d+), GPU ([+-]?\d+), now: CPU (\d+), GPU (\d+) \(MiB\)/.exec(text))) {
      changes.push({ what: x[1]!, cpuDeltaMiB: Number(x[2]), gpuDeltaMiB: Number(x[3]), cpuNowMiB: Number(x[4]), gpuNowMiB: Number(x[5]) });
      continue;
    }
    if ((x = /\[MemUsageStats\] Peak memory usage of TRT CPU\/GPU memory allocators: CPU (\d+(?:\.\d+)?) MiB, GPU (\d+(?:\.\d+)?) MiB/.exec(text))) {
      allocatorPeak = { cpuMiB: Number(x[1]), gpuMiB: Number(x[2]) };
      continue;
    }
    if ((x = new RegExp(String.raw`Engine generation completed in ${NUM} seconds`).exec(text))) {
      engine.generationSeconds.push(Number(x[1]));
      continue;
    }
    if (p.level !== 'I') continue;

    const t = text.trim();
    if ((x = /^TensorRT version: (\S+)$/.exec(t))) versionLine = x[1]!;
    else if ((x = new RegExp(String.raw`^Created engine with size: ${NUM} MiB`).exec(t))) engine.sizeMiB = Number(x[1]);
    else if ((x = new RegExp(String.raw`^Engine built in ${NUM} sec`).exec(t))) engine.buildSeconds = Number(x[1]);
    else if ((x = new RegExp(String.raw`^\[TRT\] Loaded engine size: ${NUM} MiB`).exec(t))) engine.loadedSizeMiB = Number(x[1]);
    else if ((x = new RegExp(String.raw`^Engine deserialized in ${NUM} sec`).exec(t))) engine.deserializeSeconds = Number(x[1]);
    else if ((x = new RegExp(String.raw`^Created execution context with device memory size: ${NUM} MiB`).exec(t))) engine.contextDeviceMemoryMiB = Number(x[1]);
    else if ((x = /^Warmup completed (\d+) queries over (\d+(?:\.\d+)?) ms/.exec(t))) {
      sawInference = true;
      inference.warmupQueries = Number(x[1]);
      inference.warmupMs = Number(x[2]);
    } else if ((x = new RegExp(String.raw`^Timing trace has (\d+) queries over ${NUM} s`).exec(t))) {
      sawInference = true;
      inference.queries = Number(x[1]);
      inference.seconds = Number(x[2]);
    } else if ((x = /^Input build shape(?: \(profile \d+\))?\s*: ([^=]+)=(\S+)\+(\S+)\+(\S+)$/.exec(t))) {
      buildShapes.push({ name: x[1]!.trim(), min: dims(x[2]!), opt: dims(x[3]!), max: dims(x[4]!) });
    } else if ((x = /^Input inference shape\s*: ([^=]+)=(\S+)$/.exec(t))) {
      inferenceShapes[x[1]!.trim()] = dims(x[2]!);
    } else if ((x = /^Set shape of input tensor (.+?) for optimization profile \d+ to: MIN=(\S+) OPT=(\S+) MAX=(\S+)$/.exec(t))) {
      autoProfiles.push({ name: x[1]!, min: dims(x[2]!), opt: dims(x[3]!), max: dims(x[4]!) });
    } else if (section === 'Device Information') {
      if ((x = /^Selected Device: (.+)$/.exec(t))) device.name = x[1]!;
      else if ((x = /^Compute Capability: (\d+\.\d+)$/.exec(t))) device.cc = x[1]!;
      else if ((x = /^Device Global Memory: (\d+) MiB$/.exec(t))) device.mem = Number(x[1]);
      else if ((x = /^SMs: (\d+)$/.exec(t))) device.sms = Number(x[1]);
    } else if (/Options$/.test(section) && (x = /^([^:]+?)\s*:\s?(.*)$/.exec(t))) {
      if (!kv.has(x[1]!)) kv.set(x[1]!, x[2]!);
    }
  }

  if (!sawTrtexec) throw new TrtexecLogError('no trtexec output found (expected "&&&& RUNNING TensorRT.trtexec" or "[date] [I] ..." lines)');

  const bannerVersion = bannerCode !== null ? parseBannerVersion(`v${bannerCode}`) : null;
  const tensorrtVersion = versionLine ?? (bannerVersion ? formatTensorRTVersion(bannerVersion) : null);

  const precision = orNull(kv.get('Precision'));
  const pools = kv.get('Memory Pools') ?? '';
  const ws = /workspace: (\d+(?:\.\d+)?(?:[eE][-+]?\d+)?) MiB/.exec(pools);
  for (const a of autoProfiles) if (!buildShapes.some((s) => s.name === a.name)) buildShapes.push(a);

  const cc = device.cc;
  const statsOf = (key: string): TimingStats | null => {
    const v = perf.get(key);
    return v === undefined ? null : parseTimingStats(v);
  };
  const throughput = perf.get('Throughput');
  const secondsOf = (key: string): number | null => {
    const v = perf.get(key);
    const mm = v === undefined ? null : new RegExp(String.raw`^${NUM} s$`).exec(v);
    return mm ? Number(mm[1]) : null;
  };
  const nowCpu = changes.map((c) => c.cpuNowMiB);
  const nowGpu = changes.map((c) => c.gpuNowMiB);

  const result: TrtexecLog = {
    status: status ?? 'crashed',
    tensorrtVersion,
    bannerCode,
    buildTag,
    commandLine,
    args: commandLine ? commandLine.split(/\s+/).slice(1) : [],
    options: {
      precision,
      precisions: precision ? precision.split('+') : [],
      workspaceMiB: ws ? Number(ws[1]) : null,
      buildShapes,
      inferenceShapes,
      saveEngine: orNull(kv.get('Save engine')),
      loadEngine: orNull(kv.get('Load engine')),
      timingCacheFile: orNull(kv.get('timingCacheFile')),
      skipInference: enabled(kv.get('Skip inference') ?? kv.get('Build only')),
      cudaGraph: enabled(kv.get('CUDA Graph')),
      dataTransfers: enabled(kv.get('Data transfers')),
      separateProfileRun: enabled(kv.get('Separate profiling')),
    },
    device: device.name
      ? { name: device.name, computeCapability: cc, arch: cc ? `sm${cc.replace('.', '')}` : null, globalMemoryMiB: device.mem, sms: device.sms }
      : null,
    engine,
    memory: {
      changes,
      peakCpuMiB: nowCpu.length ? Math.max(...nowCpu) : null,
      peakGpuMiB: nowGpu.length ? Math.max(...nowGpu) : null,
      allocatorPeak,
    },
    inference: sawInference ? inference : null,
    performance:
      throughput !== undefined
        ? {
            throughputQps: Number(/^([\d.eE+-]+) qps/.exec(throughput)?.[1] ?? NaN),
            latency: statsOf('Latency'),
            enqueueTime: statsOf('Enqueue Time'),
            h2dLatency: statsOf('H2D Latency'),
            gpuComputeTime: statsOf('GPU Compute Time'),
            d2hLatency: statsOf('D2H Latency'),
            totalHostWalltimeS: secondsOf('Total Host Walltime'),
            totalGpuComputeTimeS: secondsOf('Total GPU Compute Time'),
          }
        : null,
    profile,
    errors,
    warnings,
    lastLine,
  };
  return TrtexecLogSchema.parse(result);
}

const ROW_NAME_LAST = new RegExp(String.raw`^\s*${NUM}\s+${NUM}\s+${NUM}\s+${NUM}\s+(\S.*)$`);
const ROW_NAME_FIRST = new RegExp(String.raw`^\s*(\S.*?)\s+${NUM}\s+${NUM}\s+${NUM}\s+${NUM}$`);

function parseProfileRow(
  text: string,
  profile: NonNullable<TrtexecLog['profile']>,
  setNameFirst: (v: boolean) => void,
  nameFirst: boolean,
): void {
  const t = text.replace(/\s+$/, '');
  if (t.trim() === '') return;
  if (/Time\s*\(ms\)|Time\(ms\)/.test(t)) {
    // Header: 8.5 starts with "Layer", 10.x ends with it.
    setNameFirst(/^\s*Layer\b/.test(t));
    return;
  }
  let row: NonNullable<TrtexecLog['profile']>['total'] = null;
  if (nameFirst) {
    const m = ROW_NAME_FIRST.exec(t);
    if (m) row = { layer: m[1]!.trim(), timeMs: Number(m[2]), avgMs: Number(m[3]), medianMs: Number(m[4]), percent: Number(m[5]) };
  } else {
    const m = ROW_NAME_LAST.exec(t);
    if (m) row = { layer: m[5]!.trim(), timeMs: Number(m[1]), avgMs: Number(m[2]), medianMs: Number(m[3]), percent: Number(m[4]) };
  }
  if (!row) return;
  if (row.layer === 'Total') profile.total = row;
  else profile.layers.push(row);
}
