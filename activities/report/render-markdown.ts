/**
 * The release report's Markdown summary, for a pull-request or chat message: the outcome, the
 * steps, each engine's parity and best throughput, and the rollout's decisions.
 *
 * @module
 */
import type { ReportData } from './report-data.ts';
import { fmt } from './svg-charts.ts';
import { rolloutTimeline, runsNote } from './timeline.ts';

/** Escapes a table cell. */
function cell(text: unknown): string {
  return String(text).replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

/** The summary's Markdown. */
export function renderReportMarkdown(data: ReportData): string {
  const s = data.status;
  const lines = [`## ${cell(s.model ?? '?')} ${cell(s.tag)}: ${cell(s.stage)}`, ''];
  if (s.failure) lines.push(`Failed at **${cell(s.failure.step)}** (${cell(s.failure.type)}): ${cell(s.failure.message)}`, '');
  lines.push('| step | engine | verdict | duration | summary |', '|---|---|---|---|---|');
  for (const st of s.steps) {
    lines.push(`| ${cell(st.step)} | ${cell([st.target, st.precision].filter(Boolean).join('/'))} | ${cell(st.verdict ?? st.state)} | ${st.durationMs !== undefined ? `${fmt(st.durationMs / 1000)} s` : ''} | ${cell(st.summary ?? '')} |`);
  }
  if (data.engines.length) {
    lines.push('', '| engine | parity | worst maxAbs | top-1 | best throughput |', '|---|---|---|---|---|');
    for (const e of data.engines) {
      const best = e.bench?.shapes.reduce((a, b) => (b.throughputPerSec > a.throughputPerSec ? b : a));
      const top1 = e.parity?.stats.top1;
      lines.push(
        `| ${cell(`${e.target}-${e.precision}`)} | ${cell(e.parity?.verdict ?? '-')} | ${e.parity ? fmt(e.parity.stats.maxAbs) : '-'} | ${top1 ? `${top1.agree}/${top1.n}` : '-'} | ${best ? `${fmt(best.throughputPerSec)}/s at batch ${best.batch}` : '-'} |`,
      );
    }
  }
  if (s.rollout) {
    lines.push('', `Rollout: **${cell(s.rollout.outcome ?? s.rollout.phase)}**${s.rollout.stableVersion ? ` (stable before: ${cell(s.rollout.stableVersion)})` : ''}`, '');
    for (const e of rolloutTimeline(s.rollout.decisions)) lines.push(`- +${fmt(e.t)} s ${e.line.replace(/\r?\n/g, ' ')}`);
    const runs = runsNote(s.rollout);
    if (runs) lines.push('', runs);
  }
  lines.push('', '_The full report with plots is report.html beside this file._', '');
  return lines.join('\n');
}
