/**
 * The release report as one self-contained HTML file: the steps with timings; per engine the
 * parity checks, per-output statistics and error histograms, the latency per shape beside the
 * stable version's, and throughput; the rollout's weights over time and every decision. Inline
 * CSS and SVG only — no script, no network.
 *
 * @module
 */
import type { BenchReport } from '../../lib/toolkit-contract.ts';
import type { EngineEvidence, ReportData } from './report-data.ts';
import { barChart, esc, fmt, ganttChart, rangeChart, stepChart, type Range, type Series } from './svg-charts.ts';
import { checkLines, rolloutTimeline, runsNote } from './timeline.ts';

const CANDIDATE = '#1f6feb';
const STABLE = '#9a6700';
const VERDICT_COLORS: Record<string, string> = { pass: '#1a7f37', approved: '#1a7f37', done: '#1a7f37', fail: '#cf222e', rejected: '#cf222e', refused: '#cf222e', inconclusive: '#bf8700' };

const STYLE = `body{font-family:sans-serif;max-width:980px;margin:24px auto;padding:0 16px;color:#1f2328}
h1{font-size:22px}h2{font-size:18px;border-bottom:1px solid #d0d7de;padding-bottom:4px;margin-top:32px}h3{font-size:15px}
table{border-collapse:collapse;margin:8px 0;font-size:13px}td,th{border:1px solid #d0d7de;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f6f8fa}.pass{color:#1a7f37}.fail{color:#cf222e}.note{color:#57606a;font-size:12px}svg{display:block;margin:8px 0}`;

function table(head: string[], rows: (string | number)[][]): string {
  return `<table><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>${rows.map((r) => `<tr>${r.map((c) => `<td>${typeof c === 'number' ? esc(fmt(c)) : c}</td>`).join('')}</tr>`).join('')}</table>`;
}

function verdict(v: string | undefined): string {
  return v ? `<span class="${v === 'pass' ? 'pass' : v === 'fail' ? 'fail' : ''}">${esc(v)}</span>` : '';
}

function stepsSection(data: ReportData): string {
  const steps = data.status.steps;
  const t0 = Math.min(...steps.map((s) => (s.startedAt ? Date.parse(s.startedAt) : Infinity)));
  const spans = steps
    .filter((s) => s.startedAt && s.endedAt)
    .map((s) => ({
      label: `${s.step}${s.target ? ` ${s.target}/${s.precision ?? ''}` : ''}`,
      start: (Date.parse(s.startedAt!) - t0) / 1000,
      end: (Date.parse(s.endedAt!) - t0) / 1000,
      color: s.verdict === 'fail' || s.state === 'failed' ? '#cf222e' : '#8c959f',
    }));
  const rows = steps.map((s) => [esc(s.step), esc([s.target, s.precision].filter(Boolean).join('/')), esc(s.state), verdict(s.verdict), s.durationMs !== undefined ? `${esc(fmt(s.durationMs / 1000))} s` : '', esc(s.summary ?? '')]);
  return `<h2>Steps</h2>${spans.length ? ganttChart('Steps over time (seconds from the start)', spans) : ''}${table(['step', 'engine', 'state', 'verdict', 'duration', 'summary'], rows)}`;
}

function histogramLabels(edges: number[]): string[] {
  return [`<${fmt(edges[0]!)}`, ...edges.slice(1).map((e) => `<${fmt(e)}`), `≥${fmt(edges.at(-1)!)}`];
}

function paritySection(e: EngineEvidence): string {
  const p = e.parity;
  if (!p) return '<p class="note">No parity report in this package.</p>';
  let out = `<h3>Parity: ${verdict(p.verdict)} on ${esc(p.samples)} samples (${esc(p.data.kind)} data)</h3>`;
  out += table(
    ['check', 'statistic', 'rule', 'passed'],
    p.checks.map((c) => [esc(c.name), c.statistic ?? '', esc(`${c.op} ${fmt(Number(c.threshold))}`), c.passed ? '<span class="pass">yes</span>' : '<span class="fail">no</span>']),
  );
  const outputs = Object.entries(p.stats.outputs ?? {});
  if (outputs.length) out += table(['output', 'maxAbs', 'meanAbs', 'p99Abs', 'rmse'], outputs.map(([name, s]) => [esc(name), s.maxAbs, s.meanAbs, s.p99Abs, s.rmse]));
  if (p.stats.top1) out += `<p>Top-1 agreement ${esc(p.stats.top1.agree)}/${esc(p.stats.top1.n)} (95% lower bound ${esc(fmt(p.stats.top1.wilsonLower))}).</p>`;
  for (const [name, h] of Object.entries(p.stats.histograms ?? {})) {
    // The empty bins at both ends say nothing: keep one on each side of those with errors.
    const used = h.counts.flatMap((c, i) => (c > 0 ? [i] : []));
    const from = Math.max(0, (used[0] ?? 0) - 1);
    const to = Math.min(h.counts.length, (used.at(-1) ?? h.counts.length - 1) + 2);
    const labels = histogramLabels(h.edges).slice(from, to);
    out += barChart(`Absolute error of ${name} (engine vs PyTorch), elements per half-decade bin`, labels, [{ name: `${name}: elements`, color: CANDIDATE }], [h.counts.slice(from, to)], { yLabel: 'elements' });
  }
  if (p.byShape?.length) {
    out += table(['shape', 'samples', 'maxAbs', 'meanAbs', 'top-1'], p.byShape.map((b) => [esc(JSON.stringify(b.shape)), b.samples, b.maxAbs, b.meanAbs, b.top1 ?? '']));
  }
  return out;
}

function benchSection(e: EngineEvidence): string {
  const b = e.bench;
  if (!b) return '<p class="note">No benchmark in this package.</p>';
  const series: Series[] = [{ name: `candidate ${e.precision}`, color: CANDIDATE }];
  const benches: BenchReport[] = [b];
  if (e.stable) {
    series.push({ name: `stable ${e.stable.version}`, color: STABLE });
    benches.push(e.stable.bench);
  }
  const batches = [...new Set(benches.flatMap((x) => x.shapes.map((s) => s.batch)))].sort((a, c) => a - c);
  const rows: Range[] = [];
  for (const batch of batches) {
    benches.forEach((bench, k) => {
      const s = bench.shapes.find((x) => x.batch === batch);
      if (s) rows.push({ label: `batch ${batch}`, series: k, ...s.latencyMs });
    });
  }
  let out = `<h3>Latency and throughput (${esc(b.host.cpu)}, ${esc(b.host.cores)} cores${b.gpu ? `, ${esc(b.gpu.name)}` : ''})</h3>`;
  out += rangeChart('Latency per batch: line min–max, box p50–p95, tick p99', rows, series, 'ms');
  out += barChart('Throughput per batch (samples/s)', batches.map((x) => `batch ${x}`), series, benches.map((bench) => batches.map((x) => bench.shapes.find((s) => s.batch === x)?.throughputPerSec ?? 0)), { yLabel: 'samples/s' });
  out += table(
    ['batch', 'who', 'p50 ms', 'p95 ms', 'p99 ms', 'samples/s'],
    batches.flatMap((x) => benches.flatMap((bench, k) => bench.shapes.filter((s) => s.batch === x).map((s) => [x, esc(series[k]!.name), s.latencyMs.p50, s.latencyMs.p95, s.latencyMs.p99, s.throughputPerSec]))),
  );
  return out;
}

function rolloutSection(data: ReportData): string {
  const r = data.status.rollout;
  if (!r) return '';
  const events = rolloutTimeline(r.decisions);
  const points = [{ t: 0, value: 0 }, ...events.map((e) => ({ t: e.t, value: e.weight, marker: { color: VERDICT_COLORS[e.record.verdict] ?? '#57606a', label: e.line } }))];
  let out = `<h2>Rollout: ${esc(r.outcome ?? r.phase)}${r.stableVersion ? ` (stable before: ${esc(r.stableVersion)})` : ''}</h2>`;
  out += stepChart("Candidate's traffic weight over time, with each decision", points, { yMax: 100, yLabel: 'candidate %' });
  out += table(
    ['+s', 'decision', 'verdict', 'who', 'statistics vs thresholds', 'reason'],
    events.map((e) => [
      e.t,
      esc(`${e.record.kind}${e.record.step !== undefined ? ` step ${e.record.step} (${e.record.weight ?? 0}%)` : ''}`),
      verdict(e.record.verdict),
      esc([e.record.by, e.record.clientIdentity && e.record.clientIdentity !== e.record.by ? `(${e.record.clientIdentity})` : ''].filter(Boolean).join(' ')),
      checkLines(e.record).map(esc).join('<br>'),
      esc(e.record.reason ?? (e.record.detail as { summary?: string } | undefined)?.summary ?? ''),
    ]),
  );
  const runs = runsNote(r);
  if (runs) out += `<p class="note">${esc(runs)}</p>`;
  return out;
}

/** The report's HTML. */
export function renderReportHtml(data: ReportData): string {
  const s = data.status;
  const title = `${s.model ?? '?'} ${s.tag}: ${s.stage}`;
  const engines = data.engines.map((e) => `<h2>Engine ${esc(e.target)} / ${esc(e.precision)}</h2>${paritySection(e)}${benchSection(e)}`).join('');
  const problems = data.problems.length ? `<h2>Files left out</h2><ul>${data.problems.map((p) => `<li>${esc(p)}</li>`).join('')}</ul>` : '';
  const failure = s.failure ? `<p class="fail">Failed at ${esc(s.failure.step)} (${esc(s.failure.type)}): ${esc(s.failure.message)}</p>` : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${esc(title)}</title><style>${STYLE}</style></head>
<body><h1>${esc(title)}</h1>
<p>Release <code>${esc(s.releaseId)}</code>${s.commit ? `, commit <code>${esc(s.commit)}</code>` : ''}; ${esc(s.packages.length)} package(s): ${s.packages.map((p) => esc(`${p.target}-${p.precision}`)).join(', ')}.</p>
${failure}${stepsSection(data)}${engines}${rolloutSection(data)}${problems}
<p class="note">Written by modelship at the end of the release, from its status and its packages' parity.json and bench.json.</p>
</body></html>
`;
}
