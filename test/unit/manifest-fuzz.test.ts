/**
 * Manifest fuzzing: generated mutations of the example manifest. Every mistake gets a ManifestError
 * whose issues each name a field; nothing throws anything else (a TypeError in resolve would be
 * retried five times), and the mistakes a hostile or careless commit makes are named.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { ManifestError } from '../../lib/errors.ts';
import { parseManifest } from '../../lib/manifest.ts';

const EXAMPLE = readFileSync(new URL('../../examples/digits/modelship.yaml', import.meta.url), 'utf8');
const WEIRD: unknown[] = [null, true, false, 0, -1, 1.5, 2 ** 53, -(2 ** 53), '', ' ', '\n', 'x'.repeat(5000), '../x', '/etc/passwd', [], [null], {}, { a: { b: {} } }, 'ali\u202Ece'];

/** Every path (as keys) to a value in `obj`. */
function paths(obj: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (obj === null || typeof obj !== 'object') return [prefix];
  const out: (string | number)[][] = [prefix];
  for (const [k, v] of Object.entries(obj)) out.push(...paths(v, [...prefix, Array.isArray(obj) ? Number(k) : k]));
  return out;
}

function setAt(obj: unknown, path: (string | number)[], value: unknown): unknown {
  if (path.length === 0) return value;
  const copy = structuredClone(obj) as Record<string | number, unknown>;
  let cur = copy;
  for (const k of path.slice(0, -1)) cur = cur[k] as Record<string | number, unknown>;
  const last = path.at(-1)!;
  if (value === undefined) delete cur[last];
  else cur[last] = value;
  return copy;
}

/** Runs the parser: 'ok', or the issues of a ManifestError; any other exception fails the test. */
function outcome(text: string): 'ok' | readonly { field: string; message: string }[] {
  try {
    parseManifest(text);
    return 'ok';
  } catch (err) {
    if (!(err instanceof ManifestError)) throw new Error(`not a ManifestError: ${String(err)}\n${text.slice(0, 300)}`);
    return err.issues;
  }
}

describe('generated mutations of the example manifest', () => {
  it('each is accepted or refused with field-named issues, never another exception', () => {
    const base = parse(EXAMPLE) as unknown;
    const all = paths(base).filter((p) => p.length > 0);
    let seed = 7;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    let tried = 0;
    let refused = 0;
    for (let i = 0; i < 600; i++) {
      const path = all[rand(all.length)]!;
      const mutated = rand(5) === 0 ? setAt(base, path, undefined) : rand(7) === 0 ? setAt(base, [...path.slice(0, -1), 'unknownKey'], 1) : setAt(base, path, WEIRD[rand(WEIRD.length)]);
      const r = outcome(stringify(mutated));
      tried++;
      if (r !== 'ok') {
        refused++;
        expect(r.length).toBeGreaterThan(0);
        for (const issue of r) expect(issue.field, JSON.stringify(issue)).toMatch(/\S/);
      }
    }
    expect(tried).toBe(600);
    expect(refused).toBeGreaterThan(400);
  });
});

describe('the mistakes the security review found', () => {
  const withText = (from: string, to: string) => EXAMPLE.replace(from, to);
  it.each([
    ['a YAML alias cycle in model.init', withText('init: { in_ch: 1, num_classes: 10 }', 'init: &i { in_ch: 1, self: *i }'), 'model.init', /alias cycle/],
    ['NaN in model.init', withText('init: { in_ch: 1, num_classes: 10 }', 'init: { in_ch: .nan, num_classes: 10 }'), 'model.init', /finite/],
    ['infinity in model.init', withText('init: { in_ch: 1, num_classes: 10 }', 'init: { in_ch: 1, scale: -.inf }'), 'model.init', /finite/],
    ['an approver with a bidi override', withText('approvers: [alice, bob]', 'approvers: [alice, "bo\u202Eb"]'), 'rollout.approvers[1]', /bidirectional/],
    ['an approver of only spaces', withText('approvers: [alice, bob]', 'approvers: [alice, "   "]'), 'rollout.approvers[1]', /only spaces/],
    ['a task queue with a newline', withText('    backend: onnxruntime-cpu\n', '    backend: onnxruntime-cpu\n    taskQueue: "cpu\\nfoo"\n'), 'targets[0].taskQueue', /no spaces or newlines/],
    ['pythonPath outside the repository', withText('pythonPath: .', 'pythonPath: ../../..'), 'model.pythonPath', /inside the repository/],
    ['an absolute checkpoint', withText('checkpoint: artifacts/model_best.pt', 'checkpoint: /etc/passwd'), 'artifact.checkpoint', /relative/],
    ['a file:// metrics file', withText('metrics: artifacts/metrics.json', 'metrics: file:///etc/passwd'), 'artifact.metrics', /relative/],
    ['parity data outside the repository', withText('    path: data/heldout.npz\n    arrays: { input: x }\n    labels: y\n  tolerances', '    path: ../../data/heldout.npz\n    arrays: { input: x }\n    labels: y\n  tolerances'), 'parity.data.path', /inside the repository/],
    ['2^53 parity samples', withText('samples: 1000', 'samples: 9007199254740991'), 'parity.samples', /.+/],
    ['2^53 calibration samples', withText('samples: 256', 'samples: 9007199254740991'), 'calibration.samples', /.+/],
  ])('%s', (_what, text, field, message) => {
    const r = outcome(text);
    expect(r).not.toBe('ok');
    const issue = (r as readonly { field: string; message: string }[]).find((i) => i.field === field);
    expect(issue, JSON.stringify(r)).toBeDefined();
    expect(issue!.message).toMatch(message);
  });
});
