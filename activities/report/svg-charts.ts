/**
 * The release report's plots, drawn as inline SVG at build time: no script, no network, no font
 * files — a report opens the same in a browser on an air-gapped laptop years later. Each function
 * is pure: data in, an `<svg>` string out, every text escaped.
 *
 * @module
 */

/** Escapes text for HTML and SVG. */
export function esc(text: unknown): string {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A number in at most 3 significant digits, with SI-ish exponents for the very small and large. */
export function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e6 || a < 1e-3) return v.toExponential(1).replace('e+', 'e');
  return Number(v.toPrecision(3)).toString();
}

/** One series of a chart. */
export interface Series {
  name: string;
  /** CSS colour. */
  color: string;
}

const W = 640;
const FONT = 'font-family="sans-serif" font-size="11"';

function frame(height: number, body: string, title: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${height}" width="${W}" height="${height}" role="img" aria-label="${esc(title)}"><title>${esc(title)}</title>${body}</svg>`;
}

function legend(series: Series[], x: number, y: number): string {
  return series
    .map((s, i) => `<rect x="${x + i * 150}" y="${y - 9}" width="10" height="10" fill="${s.color}"/><text x="${x + i * 150 + 14}" y="${y}" ${FONT}>${esc(s.name)}</text>`)
    .join('');
}

/**
 * Grouped vertical bars: one group per label, one bar per series (`values[s][i]`), with the
 * values' axis from 0 to the largest value.
 */
export function barChart(title: string, labels: string[], series: Series[], values: number[][], opts: { yLabel?: string; height?: number } = {}): string {
  const h = opts.height ?? 220;
  const left = 56;
  const bottom = h - 46;
  const top = 24;
  const max = Math.max(1e-12, ...values.flat().filter(Number.isFinite));
  const slot = (W - left - 10) / Math.max(1, labels.length);
  const bar = Math.max(1, (slot * 0.8) / Math.max(1, series.length));
  const y = (v: number) => bottom - (Math.max(0, v) / max) * (bottom - top);
  let body = `<line x1="${left}" y1="${bottom}" x2="${W - 6}" y2="${bottom}" stroke="#888"/><line x1="${left}" y1="${top}" x2="${left}" y2="${bottom}" stroke="#888"/>`;
  body += `<text x="${left - 4}" y="${top + 4}" text-anchor="end" ${FONT}>${esc(fmt(max))}</text><text x="${left - 4}" y="${bottom}" text-anchor="end" ${FONT}>0</text>`;
  if (opts.yLabel) body += `<text x="12" y="${(top + bottom) / 2}" transform="rotate(-90 12 ${(top + bottom) / 2})" text-anchor="middle" ${FONT}>${esc(opts.yLabel)}</text>`;
  labels.forEach((label, i) => {
    const x0 = left + i * slot + slot * 0.1;
    series.forEach((s, k) => {
      const v = values[k]?.[i] ?? 0;
      body += `<rect x="${(x0 + k * bar).toFixed(1)}" y="${y(v).toFixed(1)}" width="${(bar - 1).toFixed(1)}" height="${(bottom - y(v)).toFixed(1)}" fill="${s.color}"><title>${esc(`${s.name} ${label}: ${fmt(v)}`)}</title></rect>`;
    });
    if (labels.length <= 10 || i % Math.ceil(labels.length / 8) === 0) {
      body += `<text x="${(x0 + (series.length * bar) / 2).toFixed(1)}" y="${bottom + 13}" text-anchor="middle" ${FONT}>${esc(label)}</text>`;
    }
  });
  body += legend(series, left, h - 8);
  return frame(h, body, title);
}

/** One row of a {@link rangeChart}: min, p50, p95, p99, max of one series at one label. */
export interface Range {
  label: string;
  series: number;
  min: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/**
 * Horizontal latency ranges on a log axis: a thin line from min to max, a box from p50 to p95, a
 * tick at p99 — one row per (label, series), series of one label side by side.
 */
export function rangeChart(title: string, rows: Range[], series: Series[], unit: string): string {
  const left = 110;
  const right = W - 16;
  const rowH = 16;
  const h = 40 + rows.length * rowH + 24;
  const values = rows.flatMap((r) => [r.min, r.max]).filter((v) => v > 0);
  const lo = Math.log10(Math.min(...values, 1e-3));
  const hi = Math.log10(Math.max(...values, lo + 1e-9));
  const span = Math.max(hi - lo, 1e-9);
  const x = (v: number) => left + ((Math.log10(Math.max(v, 10 ** lo)) - lo) / span) * (right - left);
  let body = '';
  for (let e = Math.ceil(lo); e <= Math.floor(hi); e++) {
    body += `<line x1="${x(10 ** e).toFixed(1)}" y1="20" x2="${x(10 ** e).toFixed(1)}" y2="${h - 24}" stroke="#ddd"/><text x="${x(10 ** e).toFixed(1)}" y="16" text-anchor="middle" ${FONT}>${esc(fmt(10 ** e))} ${esc(unit)}</text>`;
  }
  rows.forEach((r, i) => {
    const cy = 30 + i * rowH + rowH / 2;
    const color = series[r.series]?.color ?? '#333';
    const name = series[r.series]?.name ?? '';
    body += `<text x="${left - 6}" y="${cy + 4}" text-anchor="end" ${FONT}>${esc(r.label)}</text>`;
    body += `<g><title>${esc(`${name} ${r.label}: min ${fmt(r.min)}, p50 ${fmt(r.p50)}, p95 ${fmt(r.p95)}, p99 ${fmt(r.p99)}, max ${fmt(r.max)} ${unit}`)}</title>`;
    body += `<line x1="${x(r.min).toFixed(1)}" y1="${cy}" x2="${x(r.max).toFixed(1)}" y2="${cy}" stroke="${color}"/>`;
    body += `<rect x="${x(r.p50).toFixed(1)}" y="${cy - 5}" width="${Math.max(1.5, x(r.p95) - x(r.p50)).toFixed(1)}" height="10" fill="${color}"/>`;
    body += `<line x1="${x(r.p99).toFixed(1)}" y1="${cy - 7}" x2="${x(r.p99).toFixed(1)}" y2="${cy + 7}" stroke="${color}" stroke-width="2"/></g>`;
  });
  body += legend(series, left, h - 6);
  return frame(h, body, title);
}

/** A point of a {@link stepChart}; a marker is drawn where `marker` is set. */
export interface StepPoint {
  /** Seconds from the start. */
  t: number;
  value: number;
  marker?: { color: string; label: string };
}

/** A value held from point to point (weights over time), with markers for events along it. */
export function stepChart(title: string, points: StepPoint[], opts: { yMax: number; yLabel: string; color?: string }): string {
  const h = 220;
  const left = 56;
  const right = W - 16;
  const top = 20;
  const bottom = h - 36;
  const tMax = Math.max(1e-9, ...points.map((p) => p.t));
  const x = (t: number) => left + (t / tMax) * (right - left);
  const y = (v: number) => bottom - (v / opts.yMax) * (bottom - top);
  let path = '';
  points.forEach((p, i) => {
    path += i === 0 ? `M${x(p.t).toFixed(1)},${y(p.value).toFixed(1)}` : `H${x(p.t).toFixed(1)}V${y(p.value).toFixed(1)}`;
  });
  let body = `<line x1="${left}" y1="${bottom}" x2="${right}" y2="${bottom}" stroke="#888"/><line x1="${left}" y1="${top}" x2="${left}" y2="${bottom}" stroke="#888"/>`;
  body += `<text x="${left - 4}" y="${top + 4}" text-anchor="end" ${FONT}>${esc(fmt(opts.yMax))}</text><text x="${left - 4}" y="${bottom}" text-anchor="end" ${FONT}>0</text>`;
  body += `<text x="12" y="${(top + bottom) / 2}" transform="rotate(-90 12 ${(top + bottom) / 2})" text-anchor="middle" ${FONT}>${esc(opts.yLabel)}</text>`;
  body += `<text x="${right}" y="${bottom + 14}" text-anchor="end" ${FONT}>${esc(fmt(tMax))} s</text><text x="${left}" y="${bottom + 14}" ${FONT}>0 s</text>`;
  body += `<path d="${path}" fill="none" stroke="${opts.color ?? '#1f6feb'}" stroke-width="2"/>`;
  for (const p of points) {
    if (!p.marker) continue;
    body += `<circle cx="${x(p.t).toFixed(1)}" cy="${y(p.value).toFixed(1)}" r="4" fill="${p.marker.color}"><title>${esc(`${fmt(p.t)} s: ${p.marker.label}`)}</title></circle>`;
  }
  return frame(h, body, title);
}

/** One bar of a {@link ganttChart}. */
export interface Span {
  label: string;
  /** Seconds from the start. */
  start: number;
  end: number;
  color: string;
}

/** Horizontal spans on a time axis (the steps of a release). */
export function ganttChart(title: string, spans: Span[]): string {
  const left = 150;
  const right = W - 50;
  const rowH = 18;
  const h = 20 + spans.length * rowH + 10;
  const tMax = Math.max(1e-9, ...spans.map((s) => s.end));
  const x = (t: number) => left + (t / tMax) * (right - left);
  let body = '';
  spans.forEach((s, i) => {
    const y = 14 + i * rowH;
    body += `<text x="${left - 6}" y="${y + 11}" text-anchor="end" ${FONT}>${esc(s.label)}</text>`;
    body += `<rect x="${x(s.start).toFixed(1)}" y="${y}" width="${Math.max(1.5, x(s.end) - x(s.start)).toFixed(1)}" height="${rowH - 5}" fill="${s.color}"><title>${esc(`${s.label}: ${fmt(s.end - s.start)} s`)}</title></rect>`;
    body += `<text x="${(Math.max(x(s.end), x(s.start) + 1.5) + 4).toFixed(1)}" y="${y + 11}" ${FONT}>${esc(fmt(s.end - s.start))} s</text>`;
  });
  return frame(h, body, title);
}
