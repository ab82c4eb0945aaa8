/**
 * Human-readable rendering of a parsed trtexec log, for `modelship trtexec parse`.
 *
 * @module
 */
import type { TrtexecFailure } from '../../lib/trtexec/classify.ts';
import type { TimingStats, TrtexecLog } from '../../lib/trtexec/log-schema.ts';

const fmt = (n: number | null | undefined, unit = ''): string => (n === null || n === undefined ? '-' : `${n}${unit}`);

function statsLine(label: string, s: TimingStats | null): string | null {
  if (!s) return null;
  const pct = Object.entries(s.percentiles)
    .map(([p, v]) => `p${p} ${v}`)
    .join(', ');
  return `  ${label.padEnd(18)} min ${s.min}, mean ${s.mean}, median ${s.median}, max ${s.max}${pct ? `, ${pct}` : ''} (ms)`;
}

/** Renders a parsed log (and its failure class, when it failed) as lines of text. */
export function formatTrtexecLog(log: TrtexecLog, failure: TrtexecFailure | null): string {
  const out: string[] = [];
  out.push(`status:     ${log.status}`);
  out.push(`TensorRT:   ${log.tensorrtVersion ?? 'unknown'}${log.buildTag ? ` [${log.buildTag}]` : ''}`);
  if (log.commandLine) out.push(`command:    ${log.commandLine}`);
  if (log.device) out.push(`device:     ${log.device.name} (compute ${log.device.computeCapability ?? '?'}, ${log.device.arch ?? '?'})`);
  const o = log.options;
  if (o.precision) out.push(`precision:  ${o.precision}`);
  if (o.workspaceMiB !== null) out.push(`workspace:  ${o.workspaceMiB} MiB`);
  for (const s of o.buildShapes) out.push(`profile:    ${s.name} min ${s.min.join('x')} opt ${s.opt.join('x')} max ${s.max.join('x')}`);
  const e = log.engine;
  if (e.sizeMiB !== null || e.loadedSizeMiB !== null || e.buildSeconds !== null) {
    out.push(`engine:     size ${fmt(e.sizeMiB ?? e.loadedSizeMiB, ' MiB')}, built in ${fmt(e.buildSeconds, ' s')}`);
  }
  if (log.memory.peakCpuMiB !== null) out.push(`memory:     peak CPU ${log.memory.peakCpuMiB} MiB, peak GPU ${fmt(log.memory.peakGpuMiB)} MiB`);
  const p = log.performance;
  if (p) {
    out.push(`throughput: ${p.throughputQps} qps`);
    for (const [label, s] of [
      ['latency', p.latency],
      ['GPU compute', p.gpuComputeTime],
      ['enqueue', p.enqueueTime],
      ['H2D', p.h2dLatency],
      ['D2H', p.d2hLatency],
    ] as const) {
      const line = statsLine(label, s);
      if (line) out.push(line);
    }
  }
  if (log.profile) {
    out.push(`profile:    ${log.profile.layers.length} layers over ${log.profile.iterations} iterations, total ${fmt(log.profile.total?.avgMs, ' ms')} per iteration`);
  }
  if (failure) {
    out.push(`failure:    ${failure.class} (${failure.retryable ? 'retryable' : 'not retryable'})`);
    if (failure.evidence) out.push(`evidence:   ${failure.evidence}`);
    out.push(`advice:     ${failure.advice}`);
  }
  return out.join('\n');
}
