/**
 * A small parser of the Prometheus text exposition format (version 0.0.4), as the serving
 * runtime's `GET /metrics` writes it: `# HELP` / `# TYPE` lines, and samples
 * `name{label="value",...} value [timestamp]` with `\\`, `\"` and `\n` escapes in label values and
 * `+Inf`, `-Inf`, `NaN` values.
 *
 * @module
 */

/** One sample: a series (name and labels) and its value. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
  /** Milliseconds since the epoch, when the exposition gave one. */
  timestamp?: number;
}

/** A parsed exposition: the samples, and the `# TYPE` of each metric family. */
export interface Exposition {
  samples: Sample[];
  types: Record<string, string>;
}

/** A line the parser could not read (1-based line number and the reason). */
export class ExpositionParseError extends Error {
  override readonly name = 'ExpositionParseError';
  constructor(
    readonly line: number,
    reason: string,
  ) {
    super(`metrics exposition line ${line}: ${reason}`);
  }
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*/;

/** A sample value: a float, `+Inf`, `-Inf` or `NaN`. */
export function parseSampleValue(text: string): number {
  const t = text.trim();
  if (t === '+Inf' || t === 'Inf') return Infinity;
  if (t === '-Inf') return -Infinity;
  if (t === 'NaN') return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(t)) throw new Error(`not a number: ${JSON.stringify(text)}`);
  return Number(t);
}

function parseLabels(s: string, lineNo: number): [Record<string, string>, string] {
  const labels: Record<string, string> = {};
  let i = 1; // after '{'
  const skipSpace = () => {
    while (s[i] === ' ' || s[i] === '\t') i += 1;
  };
  for (;;) {
    skipSpace();
    if (s[i] === '}') return [labels, s.slice(i + 1)];
    const m = LABEL.exec(s.slice(i));
    if (!m) throw new ExpositionParseError(lineNo, `expected a label name at column ${i + 1}`);
    const key = m[0];
    i += key.length;
    skipSpace();
    if (s[i] !== '=') throw new ExpositionParseError(lineNo, `expected "=" after label ${key}`);
    i += 1;
    skipSpace();
    if (s[i] !== '"') throw new ExpositionParseError(lineNo, `expected a quoted value for label ${key}`);
    i += 1;
    let value = '';
    for (;;) {
      const c = s[i];
      if (c === undefined) throw new ExpositionParseError(lineNo, `unterminated value of label ${key}`);
      if (c === '"') break;
      if (c === '\\') {
        const n = s[i + 1];
        value += n === 'n' ? '\n' : n === '\\' ? '\\' : n === '"' ? '"' : `\\${n ?? ''}`;
        i += 2;
        continue;
      }
      value += c;
      i += 1;
    }
    i += 1; // closing quote
    labels[key] = value;
    skipSpace();
    if (s[i] === ',') i += 1;
    else if (s[i] !== '}') throw new ExpositionParseError(lineNo, `expected "," or "}" after label ${key}`);
  }
}

/**
 * Parses an exposition.
 *
 * @throws ExpositionParseError naming the first line it cannot read
 */
export function parseExposition(text: string): Exposition {
  const samples: Sample[] = [];
  const types: Record<string, string> = {};
  text.split('\n').forEach((raw, idx) => {
    const lineNo = idx + 1;
    const line = raw.replace(/\r$/, '').trim();
    if (!line) return;
    if (line.startsWith('#')) {
      const m = /^#\s*TYPE\s+(\S+)\s+(\S+)/.exec(line);
      if (m) types[m[1]!] = m[2]!;
      return;
    }
    const nm = NAME.exec(line);
    if (!nm) throw new ExpositionParseError(lineNo, 'expected a metric name');
    let rest = line.slice(nm[0].length);
    let labels: Record<string, string> = {};
    if (rest.startsWith('{')) [labels, rest] = parseLabels(rest, lineNo);
    const parts = rest.trim().split(/\s+/);
    if (!parts[0]) throw new ExpositionParseError(lineNo, `no value for ${nm[0]}`);
    if (parts.length > 2) throw new ExpositionParseError(lineNo, `unexpected text after the value: ${parts.slice(2).join(' ')}`);
    let value: number;
    try {
      value = parseSampleValue(parts[0]);
    } catch (e) {
      throw new ExpositionParseError(lineNo, (e as Error).message);
    }
    const sample: Sample = { name: nm[0], labels, value };
    if (parts[1] !== undefined) {
      const ts = Number(parts[1]);
      if (!Number.isInteger(ts)) throw new ExpositionParseError(lineNo, `bad timestamp ${parts[1]}`);
      sample.timestamp = ts;
    }
    samples.push(sample);
  });
  return { samples, types };
}

/** A stable key of a series: its name and sorted labels. */
export function seriesKey(s: Pick<Sample, 'name' | 'labels'>): string {
  const labels = Object.keys(s.labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(s.labels[k])}`)
    .join(',');
  return `${s.name}{${labels}}`;
}

/**
 * Per-series counter increase from `before` to `after`, as Prometheus's `increase()` treats
 * resets: a value that went down means the process restarted, so the later value is the increase.
 * Series new in `after` count from 0 (the runtime creates them at their first increment).
 */
export function counterIncrease(before: readonly Sample[], after: readonly Sample[]): Sample[] {
  const base = new Map(before.map((s) => [seriesKey(s), s.value]));
  return after.map((s) => {
    const b = base.get(seriesKey(s));
    const inc = b === undefined ? s.value : s.value >= b ? s.value - b : s.value;
    return { name: s.name, labels: s.labels, value: inc };
  });
}
