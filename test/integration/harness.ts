/**
 * Shared setup of integration tests: the real Temporal dev server (the same `temporal` binary the
 * dev stack uses), a workflow bundle built once, workers with a test-local home, and model
 * repositories made from examples/digits the way users make theirs.
 */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Runtime, type Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { trainAndTag } from '../../cli/demo/prepare-repo.ts';
import { GitTagKey, ModelNameKey, ReleaseStageKey } from '../../lib/search-attributes.ts';
import { CPU_QUEUE } from '../../lib/task-queues.ts';
import { modelshipLogger } from '../../workers/logger.ts';
import { findTemporalBinary } from '../../workers/temporal-binary.ts';
import { createWorkers, WORKFLOWS_PATH, type WorkerSetup } from '../../workers/start-workers.ts';

let runtimeInstalled = false;

/** Options of {@link startTemporal}. */
export interface TemporalOptions {
  /** Serve the Web UI on this port. */
  uiPort?: number;
  /** Dynamic configuration values (`--dynamic-config-value KEY=VALUE`), e.g. a low `limit.historyCount.suggestContinueAsNew`. */
  dynamicConfig?: Record<string, number | string | boolean>;
}

/** Starts the real dev server on a free port, with modelship's search attributes (and its Web UI on `uiPort`). */
export async function startTemporal(opts: TemporalOptions = {}): Promise<TestWorkflowEnvironment> {
  if (!runtimeInstalled) {
    Runtime.install({ logger: modelshipLogger('ERROR') });
    runtimeInstalled = true;
  }
  // The SDK gives the dev server 5 s to answer; on a loaded 2-core machine its first start can take
  // longer (seen once in CI-like runs), so a failed start is tried again.
  for (let attempt = 1; ; attempt++) {
    try {
      return await TestWorkflowEnvironment.createLocal({
        server: {
          executable: { type: 'existing-path', path: findTemporalBinary() },
          searchAttributes: [ModelNameKey, GitTagKey, ReleaseStageKey],
          extraArgs: ['--log-level', 'error', ...Object.entries(opts.dynamicConfig ?? {}).flatMap(([k, v]) => ['--dynamic-config-value', `${k}=${JSON.stringify(v)}`])],
          ...(opts.uiPort ? { ui: true, uiPort: opts.uiPort } : {}),
        },
      });
    } catch (err) {
      if (attempt >= 3 || !/did not start/.test(String((err as Error).message))) throw err;
    }
  }
}

let bundle: WorkflowBundleWithSourceMap | undefined;

/** The workflow bundle, built once per test process. */
export async function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: new DefaultLogger('WARN') });
  return bundle;
}

/** Control and CPU workers on a test-local home; returns them with a run promise. */
export async function startWorkers(
  env: TestWorkflowEnvironment,
  home: string,
  opts: { control?: boolean; cpu?: boolean; workerId?: string } & Pick<WorkerSetup, 'runtime' | 'metrics' | 'artifacts'> = {},
) {
  const workers: Worker[] = await createWorkers({
    connection: env.nativeConnection,
    control: opts.control ?? true,
    targetQueues: opts.cpu === false ? [] : [CPU_QUEUE],
    home,
    workerId: opts.workerId ?? 'test-host',
    workflowBundle: await workflowBundle(),
    runtime: opts.runtime,
    metrics: opts.metrics,
    artifacts: opts.artifacts,
  });
  const running = Promise.all(workers.map((w) => w.run()));
  return {
    workers,
    async stop() {
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
      await running;
    },
  };
}

/** A fresh temporary folder. */
export function tempDir(prefix = 'modelship-test-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** Options for {@link makeModelRepo}. */
export interface ModelRepoOptions {
  tag?: string;
  /** Rewrites modelship.yaml before training and tagging. */
  editManifest?: (yaml: string) => string;
  trainArgs?: string[];
  /** The folder under examples/; default `digits`. */
  example?: string;
}

/** Makes a model repository from an example (default digits): manifest edited, trained, committed, tagged. */
export async function makeModelRepo(dir: string, opts: ModelRepoOptions = {}): Promise<string> {
  const tag = opts.tag ?? 'v1.0.0';
  const example = opts.example ?? 'digits';
  const repo = join(dir, example);
  await trainAndTag({ dir: repo, tag, example, trainArgs: opts.trainArgs ?? [], log: () => {}, prepare: async (path) => {
    if (!opts.editManifest) return;
    const file = join(path, 'modelship.yaml');
    await writeFile(file, opts.editManifest(await readFile(file, 'utf8')));
  } });
  return repo;
}

/** Rewrites the example manifest's targets to fp32 only (faster tests that are not about int8). */
export function fp32Only(yaml: string): string {
  return yaml.replace('precisions: [fp32, int8]', 'precisions: [fp32]').replace('serve: { target: cpu, precision: int8 }', 'serve: { target: cpu, precision: fp32 }');
}

/** Runs git in a repository. */
export async function git(dir: string, ...args: string[]): Promise<string> {
  return (await execa('git', ['-c', 'user.name=t', '-c', 'user.email=t@t.invalid', ...args], { cwd: dir })).stdout;
}
