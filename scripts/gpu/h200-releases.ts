/**
 * The whole GPU story on a host with a GPU and TensorRT (the H200 with ../shared/device-kit): one
 * dev stack with a GPU worker, then
 *
 * 1. the demo on the GPU: digits v1.0.0 released to ONNX Runtime (fp32, int8) and TensorRT (fp32,
 *    fp16, int8) and promoted; v1.1.0 through shadow and canary with approvals, served by the
 *    TensorRT fp16 engine; v1.2.0 (shuffled labels) rolled back automatically;
 * 2. a re-release of the unchanged v1.1.0 (tag v1.1.1 on the same commit): every TensorRT engine
 *    from the engine cache;
 * 3. the precision ladder: int8 with a tolerance it cannot meet falls back to fp16;
 * 4. examples/shapes-resnet (ResNet-18, dynamic batch and H/W around 224): trained on the GPU and
 *    released to TensorRT fp16 and int8;
 * 5. the QDQ form TensorRT refuses (ONNX Runtime's quantizer defaults), built by trtexec directly,
 *    for the failure fixture;
 *
 * and writes what ran into `<out>`: summary.json (per release and engine: build time, parity,
 * latency per shape, throughput, GPU memory), the histories (`temporal workflow show` JSON), the
 * packages' reports and the trtexec logs and JSON exports.
 *
 *   node --import tsx scripts/gpu/h200-releases.ts [--home DIR] [--out DIR] [--quick | --any-model all|NAME,...]
 *
 * --resnet runs only the ResNet-class example (what scripts/gpu/serve-bench.sh serves); with
 * --fp16-only its target builds fp16 alone (the serving benchmark's engine, two minutes sooner).
 *
 * --any-model runs only the examples of the kinds users bring (all: gratings-mobilenet,
 * text-transformer, two-head-regression, warp-cnn), each with a TensorRT fp16 + int8 target added.
 *
 * scripts/gpu/h200-releases.sh runs it on the GPU machine after the kit has unpacked.
 *
 * @module
 */
import { cp, mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { execa } from 'execa';
import { parseDocument } from 'yaml';
import { DEFAULT_PORTS, startDevStack } from '../../cli/dev.ts';
import { GPU_DEMO_TARGET } from '../../cli/demo/gpu-manifest.ts';
import { releaseAndApprove, runDemo } from '../../cli/demo/index.ts';
import { defaultToolkitConfig, PROJECT_ROOT } from '../../activities/toolkit.ts';
import type { ReleaseStatus } from '../../lib/release.ts';
import { findTemporalBinary } from '../../workers/temporal-binary.ts';
import { packageSummary, type PackageSummary } from './package-summary.ts';

const { values } = parseArgs({ options: { home: { type: 'string' }, out: { type: 'string' }, quick: { type: 'boolean' }, 'any-model': { type: 'string' }, resnet: { type: 'boolean' }, 'fp16-only': { type: 'boolean' } } });
// --resnet: only the ResNet-class example (TensorRT fp16 and int8), e.g. for the serving benchmark.
const resnetOnly = Boolean(values.resnet);
// --quick: only the rollout story and the re-release, with a TensorRT fp16 target (a short GPU lease).
const quick = Boolean(values.quick);
// --any-model all|a,b: only the examples of the kinds users bring, each released to TensorRT fp16 and int8.
const ANY_MODEL_EXAMPLES = ['gratings-mobilenet', 'text-transformer', 'two-head-regression', 'warp-cnn'];
const anyModelOnly = values['any-model'] !== undefined;
const anyModelExamples = values['any-model'] === 'all' ? ANY_MODEL_EXAMPLES : (values['any-model'] ?? '').split(',').filter(Boolean);
const home = resolve(values.home ?? '/tmp/modelship-gpu');
const out = resolve(values.out ?? join(home, 'results'));
const started = Date.now();
const say = (line: string) => console.log(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}`);
const GIT_ID = ['-c', 'user.name=modelship gpu', '-c', 'user.email=gpu@modelship.invalid'];
const git = async (dir: string, ...args: string[]) => (await execa('git', [...GIT_ID, ...args], { cwd: dir })).stdout;

/** Ends the run early (after --any-model), through the same writing of results. */
class Done extends Error {}

/** What one phase produced, for summary.json. */
interface PhaseResult {
  phase: string;
  seconds: number;
  releases: Array<{ workflowId: string; stage: string; failure?: unknown; steps: unknown; packages: PackageSummary[]; decisions?: unknown }>;
  notes: string[];
  error?: string;
}

async function describe(status: ReleaseStatus): Promise<PhaseResult['releases'][number]> {
  const packages: PackageSummary[] = [];
  for (const p of status.packages) packages.push(await packageSummary(fileURLToPath(p.uri)));
  return {
    workflowId: `release/${status.model}/${status.tag}`,
    stage: status.stage,
    ...(status.failure ? { failure: status.failure } : {}),
    steps: status.steps,
    packages,
    ...(status.rollout ? { decisions: status.rollout.decisions } : {}),
  };
}

async function phase(name: string, body: (r: PhaseResult) => Promise<void>): Promise<PhaseResult> {
  const r: PhaseResult = { phase: name, seconds: 0, releases: [], notes: [] };
  const t0 = Date.now();
  say(`== ${name}`);
  try {
    await body(r);
  } catch (err) {
    r.error = (err as Error).stack ?? String(err);
    say(`${name} failed: ${(err as Error).message}`);
  }
  r.seconds = (Date.now() - t0) / 1000;
  await writeFile(join(out, `phase-${name}.json`), `${JSON.stringify(r, null, 2)}\n`);
  return r;
}

/** TensorRT builds that ran (cache misses) in a release, from the build steps' summaries. */
function trtBuilds(status: ReleaseStatus): { misses: number; hits: number } {
  const summaries = JSON.stringify(status.steps);
  return { misses: (summaries.match(/cache miss/g) ?? []).length, hits: (summaries.match(/cache hit/g) ?? []).length };
}

await rm(out, { recursive: true, force: true });
await mkdir(out, { recursive: true });
const stack = await startDevStack(home, DEFAULT_PORTS, { gpu: true });
const connection = await Connection.connect({ address: stack.address });
const client = new Client({ connection });
const arch = stack.gpu!.host.arch;
const digits = join(home, 'demo', 'digits');
const phases: PhaseResult[] = [];
try {
  say(`GPU worker ${stack.gpu!.description}`);
  if (anyModelOnly) {
    await anyModel();
    throw new Done();
  }
  if (resnetOnly) {
    phases.push(await resnetPhase());
    throw new Done();
  }

  phases.push(
    await phase('demo', async (r) => {
      for (const s of await runDemo({ home, keepRunning: false, short: false, gpu: true, stack, ...(quick ? { gpuPrecisions: ['fp16' as const] } : {}) })) {
        r.releases.push(await describe(s));
      }
    }),
  );

  phases.push(
    await phase('rerelease', async (r) => {
      // The same commit as v1.1.0 under a new tag: export, quantization and every TensorRT engine
      // key are the same, so the GPU builds nothing.
      if (!(await git(digits, 'tag', '--list', 'v1.1.1')).trim()) await git(digits, 'tag', 'v1.1.1', 'v1.1.0');
      const s = await releaseAndApprove(client, digits, 'v1.1.1', { rollout: false });
      const builds = trtBuilds(s);
      r.notes.push(`TensorRT engines built: ${builds.misses}, from the engine cache: ${builds.hits}`);
      r.releases.push(await describe(s));
    }),
  );

  if (!quick) await fullOnly();
} catch (err) {
  if (!(err instanceof Done)) throw err;
} finally {
  await writeFile(join(out, 'summary.json'), `${JSON.stringify({ gpu: stack.gpu, quick, seconds: (Date.now() - started) / 1000, phases }, null, 2)}\n`);
  await saveHistories(client, join(out, 'histories')).catch((err: Error) => say(`histories: ${err.message}`));
  await saveReports(home, join(out, 'reports')).catch((err: Error) => say(`reports: ${err.message}`));
  await connection.close();
  await stack.stop();
  say(`done: ${out}`);
}

/**
 * The examples of the kinds users bring (MobileNetV3-small, a transformer text classifier, a
 * two-output regression, a spatial-transformer CNN), each trained here and released, unedited but
 * for an added TensorRT target (fp16, int8 from the automatically chosen QDQ model), beside its
 * ONNX Runtime target.
 */
async function anyModel(): Promise<void> {
  for (const example of anyModelExamples) {
    phases.push(
      await phase(example, async (r) => {
        const repo = join(home, 'repos', example);
        if (!existsSync(join(repo, '.git'))) {
          await rm(repo, { recursive: true, force: true });
          await cp(join(PROJECT_ROOT, 'examples', example), repo, { recursive: true, filter: (src) => !/[\\/](artifacts|data|__pycache__)([\\/]|$)/.test(src) });
          await git(repo, 'init', '--quiet', '--initial-branch=main');
        }
        if (!(await git(repo, 'tag', '--list', 'v1.0.0')).trim()) {
          const train = await execa(defaultToolkitConfig('').python, ['train.py'], { cwd: repo, all: true });
          await writeFile(join(out, `${example}-train.log`), train.all);
          say(train.all.split('\n').at(-1) ?? '');
          const file = join(repo, 'modelship.yaml');
          const doc = parseDocument(await readFile(file, 'utf8'));
          const targets = doc.get('targets') as { add: (n: unknown) => void };
          targets.add(doc.createNode({ name: 'h200', backend: 'tensorrt', gpu: arch, precisions: ['fp16', 'int8'] }));
          const classification = doc.getIn(['task', 'kind']) === 'classification';
          doc.setIn(['parity', 'tolerances', 'fp16'], doc.createNode(classification ? { minTop1Agreement: 0.99 } : { maxAbs: 0.02, meanAbs: 0.002 }, { flow: true }));
          await writeFile(file, doc.toString());
          await git(repo, 'add', '-A');
          await git(repo, 'commit', '--quiet', '-m', 'train v1.0.0, with a TensorRT target');
          await git(repo, 'tag', 'v1.0.0');
        }
        const s = await releaseAndApprove(client, repo, 'v1.0.0', { rollout: false });
        r.releases.push(await describe(s));
      }),
    );
  }
}

/** The ResNet-class example (ResNet-18 at 224 px), trained here and released to TensorRT fp16 and int8. */
async function resnetPhase(): Promise<PhaseResult> {
  return await phase('resnet', async (r) => {
    const repo = join(home, 'repos', 'shapes-resnet');
    if (!existsSync(join(repo, '.git'))) {
      await rm(repo, { recursive: true, force: true });
      await cp(join(PROJECT_ROOT, 'examples', 'shapes-resnet'), repo, { recursive: true, filter: (src) => !/[\\/](artifacts|data|__pycache__)([\\/]|$)/.test(src) });
      if (values['fp16-only']) {
        const manifest = join(repo, 'modelship.yaml');
        const text = await readFile(manifest, 'utf8');
        if (!text.includes('precisions: [fp16, int8]')) throw new Error(`--fp16-only: ${manifest} no longer lists 'precisions: [fp16, int8]'`);
        await writeFile(manifest, text.replace('precisions: [fp16, int8]', 'precisions: [fp16]'));
      }
      await git(repo, 'init', '--quiet', '--initial-branch=main');
    }
    if (!(await git(repo, 'tag', '--list', 'v1.0.0')).trim()) {
      const train = await execa(defaultToolkitConfig('').python, ['train.py'], { cwd: repo, all: true });
      await writeFile(join(out, 'resnet-train.log'), train.all);
      say(train.all.split('\n').at(-1) ?? '');
      await git(repo, 'add', '-A');
      await git(repo, 'commit', '--quiet', '-m', 'train v1.0.0');
      await git(repo, 'tag', 'v1.0.0');
    }
    r.releases.push(await describe(await releaseAndApprove(client, repo, 'v1.0.0', { rollout: false })));
  });
}

/** The phases beyond the rollout story: the ladder, the ResNet-class model, the refused QDQ form. */
async function fullOnly(): Promise<void> {
  phases.push(
    await phase('ladder', async (r) => {
      // int8 with a tolerance no INT8 engine meets: the target falls back to fp16 and says why.
      if (!(await git(digits, 'tag', '--list', 'v1.1.0-ladder')).trim()) {
        await git(digits, 'checkout', '--quiet', '-B', 'ladder', 'v1.1.0');
        const file = join(digits, 'modelship.yaml');
        const doc = parseDocument(await readFile(file, 'utf8'));
        doc.setIn(['targets'], doc.createNode([{ name: `${GPU_DEMO_TARGET}-ladder`, backend: 'tensorrt', gpu: arch, precisions: ['int8', 'fp16', 'fp32'], ladder: ['int8', 'fp16', 'fp32'] }]));
        doc.setIn(['parity', 'tolerances', 'int8'], doc.createNode({ maxAbs: 1e-4, minTop1Agreement: 0.999 }, { flow: true }));
        doc.deleteIn(['rollout']);
        await writeFile(file, doc.toString());
        await git(digits, 'commit', '--quiet', '-am', 'ladder: int8 must match fp32 to 1e-4');
        await git(digits, 'tag', 'v1.1.0-ladder');
        await git(digits, 'checkout', '--quiet', 'main');
      }
      const s = await releaseAndApprove(client, digits, 'v1.1.0-ladder', { rollout: false });
      r.notes.push(`delivered: ${s.packages.map((p) => `${p.target}-${p.precision}`).join(', ') || 'none'}`);
      r.releases.push(await describe(s));
    }),
  );

  phases.push(await resnetPhase());

  phases.push(
    await phase('refused-qdq', async (r) => {
      // ONNX Runtime's quantizer defaults (UINT8 activations, INT32 biases behind DequantizeLinear):
      // what TensorRT's parser refused in the first real run. Kept as a failure fixture.
      const onnx = (await execa('find', [join(home, 'artifacts'), '-path', '*digits/v1.1.0/*', '-name', 'model.onnx'])).stdout.split('\n')[0];
      if (!onnx) throw new Error('no exported digits model.onnx found');
      const qdq = join(out, 'ort-default-qdq.onnx');
      await execa(defaultToolkitConfig('').python, [join(PROJECT_ROOT, 'scripts', 'gpu', 'ort-default-qdq.py'), onnx, join(digits, 'data', 'heldout.npz'), qdq]);
      const run = await execa('trtexec', [`--onnx=${qdq}`, '--int8', '--minShapes=input:1x1x8x8', '--optShapes=input:32x1x8x8', '--maxShapes=input:256x1x8x8', '--skipInference'], { all: true, reject: false });
      await writeFile(join(out, 'trt10_6_failed_int8_ort_default_qdq_digits_h200.log'), run.all ?? '');
      await rm(qdq, { force: true });
      r.notes.push(`trtexec exit ${run.exitCode}`);
    }),
  );
}

/** Every workflow's history, as `temporal workflow show --output json` writes it (what the replay test reads). */
async function saveHistories(c: Client, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const index: Record<string, string> = {};
  for await (const wf of c.workflow.list()) {
    const file = `${wf.workflowId.replace(/^release\//, '').replace(/[^A-Za-z0-9.-]+/g, '-')}.json`;
    const { stdout } = await execa(findTemporalBinary(), ['workflow', 'show', '--workflow-id', wf.workflowId, '--output', 'json', '--address', stack.address]);
    await writeFile(join(dir, file), `${stdout.trim()}\n`);
    index[file] = wf.workflowId;
  }
  await writeFile(join(dir, 'index.json'), `${JSON.stringify(index, null, 2)}\n`);
  say(`${Object.keys(index).length} histories`);
}

/** The packages' reports and the workers' trtexec logs and JSON exports (no engines, models or archives). */
async function saveReports(from: string, dir: string): Promise<void> {
  const keep = /\.(json|log)$/;
  const skip = /(^|\/)(node_modules|results|temporal\.db|prometheus|demo\/digits|repos)(\/|$)/;
  for (const file of await walk(from)) {
    const rel = relative(from, file);
    if (!keep.test(rel) || skip.test(rel) || (await stat(file)).size > 2 * 2 ** 20) continue;
    await mkdir(join(dir, rel, '..'), { recursive: true });
    await cp(file, join(dir, rel));
  }
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(p)));
    else if (e.isFile()) out.push(p);
  }
  return out;
}
