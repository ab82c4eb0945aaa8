/**
 * The release manifest: the example is valid, and every kind of mistake is refused with a message
 * naming the field and what was expected.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { ManifestError } from '../../lib/errors.ts';
import { parseAcceptance, parseManifest } from '../../lib/manifest.ts';
import { assertTargetsRunnable } from '../../lib/targets.ts';

const exampleText = readFileSync(new URL('../../examples/digits/modelship.yaml', import.meta.url), 'utf8');

/** The example with one change applied to its parsed form. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- edits reach anywhere in the parsed YAML
type Doc = Record<string, any>;

function variant(edit: (m: Doc) => void): string {
  const m = parse(exampleText);
  edit(m);
  return stringify(m);
}

/** The field → message lines of a refused manifest. */
function issuesOf(text: string): string[] {
  try {
    parseManifest(text);
  } catch (err) {
    expect(err).toBeInstanceOf(ManifestError);
    return (err as ManifestError).issues.map((i) => `${i.field}: ${i.message}`);
  }
  throw new Error('the manifest was accepted');
}

describe('manifest', () => {
  it('accepts the example and fills defaults', () => {
    const m = parseManifest(exampleText);
    expect(m.name).toBe('digits');
    expect(m.inputs[0]!.dims[0]).toEqual({ name: 'batch', min: 1, opt: 32, max: 256 });
    expect(m.export).toEqual({ opset: 17, exporter: 'auto' });
    expect(m.rollout?.analysis.interval).toBe('5s');
    expect(parseManifest(exampleText.replace(/ {2}analysis: \{[^\n]*\n/, '')).rollout?.analysis.interval).toBe('30s');
  });

  const mistakes: [string, (m: Doc) => void, RegExp][] = [
    ['max below opt', (m) => (m.inputs[0].dims[0].max = 16), /^inputs\[0\]\.dims\[0\]\.max: max 16 is below opt 32$/],
    ['opt below min', (m) => (m.inputs[0].dims[0].min = 64), /^inputs\[0\]\.dims\[0\]\.opt: opt 32 is below min 64$/],
    ['wrong api version', (m) => (m.apiVersion = 'v2'), /^apiVersion: /],
    ['bad model name', (m) => (m.name = 'Digits Model'), /^name: expected lowercase letters/],
    ['entrypoint without class', (m) => (m.model.entrypoint = 'model_def'), /^model\.entrypoint: expected "python\.module:ClassName"/],
    ['missing checkpoint', (m) => delete m.artifact.checkpoint, /^artifact\.checkpoint: /],
    ['malformed acceptance', (m) => (m.artifact.acceptance = ['accuracy is high']), /^artifact\.acceptance\[0\]: expected "<metric> <op> <number>"/],
    ['unknown dtype', (m) => (m.inputs[0].dtype = 'float128'), /^inputs\[0\]\.dtype: /],
    ['zero dim', (m) => (m.inputs[0].dims[1] = 0), /^inputs\[0\]\.dims\[1\]/],
    ['output dim naming no input dim', (m) => (m.outputs[0].dims = ['batchsize', 10]), /^outputs\[0\]\.dims\[0\]: "batchsize" is not a dynamic dim defined by any input \(defined: batch\)/],
    ['input dim naming no input dim', (m) => (m.inputs[0].dims[2] = 'height'), /^inputs\[0\]\.dims\[2\]: "height" is not a dynamic dim defined by any input \(defined: batch\); define it once as \{ name: height, min, opt, max \}/],
    [
      'one dim name with two ranges',
      (m) => m.inputs.push({ name: 'mask', dims: [{ name: 'batch', min: 1, opt: 8, max: 16 }, 4] }),
      /^inputs\[1\]\.dims\[0\]: dim "batch" is defined twice with different ranges \(1\/32\/256 and 1\/8\/16\)/,
    ],
    ['a target with neither precisions nor ladder', (m) => delete m.targets[0].precisions, /^targets\[0\]\.precisions: expected the precisions to build, e\.g\. precisions: \[fp32, int8\]/],
    ['a per-output tolerance for no output', (m) => (m.parity.tolerances.int8.outputs = { probs: { maxAbs: 1 } }), /^parity\.tolerances\.int8\.outputs\.probs: no output named "probs" \(outputs: logits\)$/],
    ['duplicate input', (m) => m.inputs.push(structuredClone(m.inputs[0])), /^inputs\[1\]\.name: duplicate input name "input"$/],
    ['unknown task', (m) => (m.task = { kind: 'ranking' }), /^task\.kind: /],
    ['top-k beyond classes', (m) => (m.task.topK = [1, 20]), /^task\.topK: top-20 needs at least 20 classes; outputs\[0\] has 10$/],
    ['opset too old', (m) => (m.export.opset = 13), /^export\.opset: opset must be 17 or newer$/],
    ['unknown backend', (m) => (m.targets[0].backend = 'tflite'), /^targets\[0\]\.backend: /],
    ['precision the backend cannot build', (m) => (m.targets[0].precisions = ['fp16']), /^targets\[0\]\.precisions\[0\]: onnxruntime-cpu cannot build fp16/],
    ['tensorrt without gpu', (m) => m.targets.push({ name: 'h100', backend: 'tensorrt', precisions: ['fp16'] }), /^targets\[1\]\.gpu: a tensorrt target must name its GPU architecture/],
    ['bad gpu arch', (m) => m.targets.push({ name: 'h100', backend: 'tensorrt', gpu: 'hopper', precisions: ['fp32'] }), /^targets\[1\]\.gpu: expected a compute architecture such as "sm90"$/],
    ['int8 without calibration', (m) => delete m.calibration, /^calibration: an int8 target needs calibration data/],
    ['too few parity samples', (m) => (m.parity.samples = 100), /^parity\.samples: parity needs at least 1000 samples/],
    ['missing tolerance for a built precision', (m) => delete m.parity.tolerances.int8, /^parity\.tolerances\.int8: a target builds int8, so parity needs a tolerance for it$/],
    ['empty tolerance', (m) => (m.parity.tolerances.fp32 = {}), /^parity\.tolerances\.fp32: expected at least one tolerance/],
    ['unknown data kind', (m) => (m.parity.data = { kind: 'imagenet' }), /^parity\.data\.kind: /],
    ['benchmark shape outside the profile', (m) => (m.benchmark.shapes = [{ input: [512, 1, 8, 8] }]), /^benchmark\.shapes\[0\]\.input\[0\]: 512 is outside 1\.\.256$/],
    ['benchmark shape of unknown input', (m) => (m.benchmark.shapes = [{ image: [1, 1, 8, 8] }]), /^benchmark\.shapes\[0\]\.image: no input named "image"$/],
    ['canary weights not increasing', (m) => (m.rollout.canary[2].weight = 5), /^rollout\.canary\[2\]\.weight: weight 5 must be above the previous step's 5$/],
    ['canary not reaching 100', (m) => (m.rollout.canary[3].weight = 50), /^rollout\.canary\[3\]\.weight: the last canary step must reach 100, not 50$/],
    ['bad duration', (m) => (m.rollout.canary[0].bake = 'five minutes'), /^rollout\.canary\[0\]\.bake: expected a duration such as "30s"/],
    ['no approvers', (m) => (m.rollout.approvers = []), /^rollout\.approvers: /],
    ['unknown field', (m) => (m.targetz = []), /^\(root\): .*targetz/],
  ];

  it.each(mistakes)('refuses %s, naming the field', (_name, edit, expected) => {
    const issues = issuesOf(variant(edit));
    expect(issues.some((line) => expected.test(line)), `got:\n${issues.join('\n')}`).toBe(true);
  });

  it('lists every wrong field at once', () => {
    const issues = issuesOf(
      variant((m) => {
        m.inputs[0].dims[0].max = 16;
        m.parity.samples = 10;
      }),
    );
    expect(issues).toHaveLength(2);
  });

  it('refuses YAML syntax errors with the line', () => {
    expect(issuesOf('name: [digits\nmodel: {')[0]).toMatch(/^line \d+: /);
  });

  it('refuses a document that is not a mapping', () => {
    expect(issuesOf('- just\n- a list\n')).toEqual(['(root): expected a YAML mapping with apiVersion, name, model, ...']);
  });

  it('accepts tensorrt targets that name their GPU architecture', () => {
    const m = parseManifest(
      variant((x) => {
        x.targets.push({ name: 'h100', backend: 'tensorrt', gpu: 'sm90', precisions: ['fp16'] });
        x.parity.tolerances.fp16 = { maxAbs: 0.01 };
      }),
    );
    expect(() => assertTargetsRunnable(m)).not.toThrow();
    expect(m.targets[1]).toMatchObject({ backend: 'tensorrt', gpu: 'sm90' });
  });

  it('resolves input dims written by name to the range another input defines', () => {
    const m = parseManifest(variant((x) => x.inputs.push({ name: 'mask', dtype: 'bool', dims: ['batch', 8, 8] })));
    expect(m.inputs[1]!.dims).toEqual([{ name: 'batch', min: 1, opt: 32, max: 256 }, 8, 8]);
  });

  it('takes a ladder alone as the precisions to build', () => {
    const m = parseManifest(variant((x) => ((x.targets[0].ladder = ['int8', 'fp32']), delete x.targets[0].precisions)));
    expect(m.targets[0]!.precisions).toEqual(['int8', 'fp32']);
  });

  it('accepts every example manifest', () => {
    for (const name of ['gratings-mobilenet', 'text-transformer', 'two-head-regression', 'warp-cnn', 'shapes-resnet']) {
      const m = parseManifest(readFileSync(new URL(`../../examples/${name}/modelship.yaml`, import.meta.url), 'utf8'), name);
      expect(m.inputs.every((i) => i.dims.every((d) => typeof d !== 'string'))).toBe(true);
    }
  });

  it('parses acceptance criteria', () => {
    expect(parseAcceptance('val_accuracy >= 0.95')).toEqual({ metric: 'val_accuracy', op: '>=', threshold: 0.95 });
    expect(parseAcceptance('loss<1e-3')).toEqual({ metric: 'loss', op: '<', threshold: 0.001 });
  });
});
