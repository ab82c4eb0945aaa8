/**
 * Steps 3–5 for backend tensorrt on a GPU worker: build with trtexec (engine cache first, timing
 * cache per architecture, QDQ ONNX for INT8), parity through the toolkit's TensorRTRunner against
 * the PyTorch reference on the same GPU, and a benchmark from `trtexec --loadEngine --exportTimes`.
 * Each GPU job holds one GPU of the worker's slot pool and sees only it (`CUDA_VISIBLE_DEVICES`).
 *
 * @module
 */
import { cpus } from 'node:os';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { execa } from 'execa';
import { modelProcessEnv } from '../process-env.ts';
import type { ArtifactRef } from '../../lib/artifact-ref.ts';
import { ErrorType } from '../../lib/errors.ts';
import type { ParityReport } from '../../lib/toolkit-contract.ts';
import { BenchReportSchema, type BenchReport } from '../../lib/toolkit-contract.ts';
import {
  buildTrtexecBenchCommand,
  buildTrtexecCommand,
  engineCacheKey,
  formatTensorRTVersion,
  normalizeBuildArgs,
  parseExportTimes,
  parseLayerInfo,
  parseTrtexecLog,
  summarizeExportTimes,
  timingCacheFileName,
} from '../../lib/trtexec/index.ts';
import type { ActivityDeps } from '../deps.ts';
import type { BuiltEngine, BuiltEngineInput, EngineStepInput, EngineSteps } from '../../lib/engine-steps.ts';
import { toolkitCallOptions } from '../failures.ts';
import { exists } from '../workspace.ts';
import { KEEP_ALIVE_MS, reportEvenIfGateFailed, runToolkit } from '../toolkit.ts';
import { batchOf, benchShapes } from './bench-shapes.ts';
import { engineCachePrefix, fetchTimingCache, lookupEngine, storeEngine, storeTimingCache } from './caches.ts';
import { trtexecFailure, workspaceForAttempt } from './failure.ts';
import type { GpuRuntime } from './host.ts';
import { runTrtexec, trtexecProgress } from './trtexec-process.ts';

/** Hardware compatibility of the engines built here: none (they run on the building architecture only). */
export const HARDWARE_COMPATIBILITY = 'none';

/** The TensorRT engine steps of a GPU worker. */
export function createTensorRTSteps({ workspace, toolkit }: ActivityDeps, workerId: string, gpu: GpuRuntime): EngineSteps {
  const { host, slots, trtexecPath } = gpu;
  const trtVersion = formatTensorRTVersion(host.tensorrt);
  const gpuEnv = (index: number) => ({ CUDA_VISIBLE_DEVICES: String(index) });
  const deviceOf = (index: number) => host.devices.find((d) => d.index === index) ?? host.devices[0]!;

  return {
    /** Step 3: the engine, from the engine cache or built by trtexec on one GPU. */
    async build(input: EngineStepInput, prefix: string): Promise<BuiltEngine> {
      const hb = toolkitCallOptions('build');
      const { manifest } = input.source;
      const repoDir = await workspace.unpackSource(input.source.source, input.releaseId);
      const exportedOnnx = await workspace.fetch(input.exported.onnx);
      const outDir = await workspace.releaseDir(input.releaseId, input.target.name, input.precision);

      // INT8: the QDQ model from the toolkit (the same quantization as the onnxruntime-cpu int8 build).
      let onnxPath = exportedOnnx;
      let onnxSha256 = input.exported.onnx.sha256;
      let quantization: unknown;
      if (input.precision === 'int8') {
        hb.say('quantizing to QDQ INT8 on calibration data');
        const prepared = await runToolkit(
          toolkit,
          'build',
          { repoDir, manifest, onnxPath: exportedOnnx, backend: 'tensorrt', precision: 'int8', outDir },
          { onProgress: hb.onProgress, keepAlive: hb.keepAlive, signal: hb.signal },
        );
        if (!prepared.quantization?.qdq || prepared.quantization.qdq.quantizeLinear === 0) {
          // Never `--int8` on a model without Q/DQ: trtexec would calibrate it on random data.
          throw ApplicationFailure.create({
            type: ErrorType.BadInput,
            nonRetryable: true,
            message: `the toolkit's INT8 model for ${input.target.name} has no Q/DQ nodes; refusing to build INT8 without them (trtexec would calibrate on random data)`,
          });
        }
        onnxPath = prepared.engine.path;
        onnxSha256 = prepared.engine.sha256;
        quantization = prepared.quantization;
      }

      const enginePath = join(outDir, `engine.${input.precision}.plan`);
      const layerInfoPath = join(outDir, `layers.${input.precision}.json`);
      const timingCachePath = join(outDir, timingCacheFileName(host.arch, host.tensorrt));
      const commandFor = (workspaceMiB: number | undefined) =>
        buildTrtexecCommand({
          onnxPath,
          enginePath,
          inputs: manifest.inputs,
          precision: input.precision,
          onnxIsQdq: input.precision === 'int8',
          version: host.tensorrt,
          workspaceMiB,
          timingCachePath,
          layerInfoPath,
          executable: trtexecPath,
        });
      // The key uses the configured workspace, not this attempt's: a retry with less workspace still
      // builds an interchangeable engine.
      const keyCommand = commandFor(input.target.workspaceMiB);
      const key = engineCacheKey({ onnxSha256, args: keyCommand.args, version: host.tensorrt, arch: host.arch });
      const cachePrefix = engineCachePrefix(host.arch, host.tensorrt, key);

      const cached = await lookupEngine(workspace, cachePrefix);
      if (cached) {
        hb.say(`engine cache hit ${key}`);
        const reportPath = join(outDir, 'build.json');
        await writeFile(reportPath, `${JSON.stringify({ ...cached.report, cache: { key, hit: true, entry: workspace.store.uriFor(cachePrefix) }, servedTo: workerId }, null, 2)}\n`);
        const buildReport = await workspace.keep(prefix, 'build.json', reportPath);
        return { engine: cached.engine, buildLog: cached.buildLog, buildReport, summary: `${(cached.engine.bytes / 1024).toFixed(0)} KiB engine, cache hit ${key}` };
      }

      return slots.withGpu(async (index) => {
        const device = deviceOf(index);
        const attempt = Context.current().info.attempt;
        const workspaceMiB = workspaceForAttempt(input.target.workspaceMiB, attempt, device.memoryBytes / 2 ** 20);
        const command = commandFor(workspaceMiB);
        const timingFrom = await fetchTimingCache(workspace, host.arch, host.tensorrt, timingCachePath);
        hb.say(`trtexec on GPU ${index} (${device.name}), cache miss ${key.slice(0, 16)}${timingFrom ? ', timing cache loaded' : ''}`);
        await rm(enginePath, { force: true });
        const logPath = join(outDir, `build.${input.precision}.log`);
        const outcome = await runTrtexec({
          executable: command.executable,
          args: command.args,
          env: gpuEnv(index),
          logPath,
          onLine: (line) => {
            const message = trtexecProgress(line);
            if (message) hb.say(message);
          },
          keepAlive: hb.keepAlive,
          keepAliveMs: KEEP_ALIVE_MS,
          signal: hb.signal,
        });
        const failure = trtexecFailure(outcome, {
          what: `TensorRT ${input.precision} build of ${input.target.name}`,
          workerId,
          nextWorkspaceMiB: workspaceForAttempt(input.target.workspaceMiB, attempt + 1, device.memoryBytes / 2 ** 20),
          logUri: outcome.canceled ? undefined : (await workspace.keep(prefix, 'build.log', logPath)).uri,
        });
        if (failure) throw failure;
        if (!(await exists(enginePath))) {
          throw ApplicationFailure.create({ type: ErrorType.Infrastructure, message: `trtexec passed but wrote no engine at ${enginePath}` });
        }
        await storeTimingCache(workspace, host.arch, host.tensorrt, timingCachePath, timingFrom).catch(() => undefined);

        const log = parseTrtexecLog(outcome.text);
        const layers = (await exists(layerInfoPath)) ? parseLayerInfo(await readFile(layerInfoPath, 'utf8')) : undefined;
        const report = (engine: ArtifactRef) => ({
          backend: 'tensorrt',
          precision: input.precision,
          engine: { sha256: engine.sha256, bytes: engine.bytes },
          onnx: { sha256: onnxSha256, quantized: input.precision === 'int8' },
          ...(quantization ? { quantization } : {}),
          versions: {
            tensorrt: trtVersion,
            ...(host.cuda ? { cuda: host.cuda } : {}),
            ...(host.driver ? { nvidiaDriver: host.driver } : {}),
          },
          gpu: { name: device.name, computeCapability: host.computeCapability, arch: host.arch, memoryBytes: device.memoryBytes },
          hardwareCompatibility: HARDWARE_COMPATIBILITY,
          builtBy: workerId,
          cache: { key, hit: false },
          trtexec: {
            args: normalizeBuildArgs(command.args),
            warnings: command.warnings,
            logVersion: log.tensorrtVersion,
            workspaceMiB: workspaceMiB ?? null,
            buildSeconds: log.engine.buildSeconds,
            engineSizeMiB: log.engine.sizeMiB,
            peakGpuMiB: log.memory.allocatorPeak?.gpuMiB ?? log.memory.peakGpuMiB,
          },
          layers: layers ? { count: layers.layerNames.length, verbosity: layers.verbosity, types: layers.layerTypes } : null,
        });
        const entry = await storeEngine(workspace, cachePrefix, {
          engine: enginePath,
          buildLog: logPath,
          layers: layers ? layerInfoPath : undefined,
          buildJson: async (engine) => {
            const path = join(outDir, `cache-build.${input.precision}.json`);
            await writeFile(path, `${JSON.stringify(report(engine), null, 2)}\n`);
            return path;
          },
        });
        const reportPath = join(outDir, 'build.json');
        await writeFile(reportPath, `${JSON.stringify({ ...entry.report, cache: { key, hit: false, entry: workspace.store.uriFor(cachePrefix) } }, null, 2)}\n`);
        const buildReport = await workspace.keep(prefix, 'build.json', reportPath);
        const secs = log.engine.buildSeconds !== null ? `built in ${log.engine.buildSeconds.toFixed(1)} s on GPU ${index}, ` : '';
        return { engine: entry.engine, buildLog: entry.buildLog, buildReport, summary: `${(entry.engine.bytes / 1024).toFixed(0)} KiB engine, ${secs}cache miss (stored ${key})` };
      }, hb.signal);
    },

    /** Step 4: the toolkit's parity with TensorRTRunner and the PyTorch reference, on one GPU. */
    async parity(input: BuiltEngineInput): Promise<ParityReport> {
      const hb = toolkitCallOptions('parity');
      const repoDir = await workspace.unpackSource(input.source.source, input.releaseId);
      const checkpointPath = await workspace.fetch(input.source.checkpoint);
      const enginePath = await workspace.fetch(input.engine);
      return slots.withGpu(async (index) => {
        return reportEvenIfGateFailed(
          runToolkit(
            toolkit,
            'parity',
            { repoDir, manifest: input.source.manifest, checkpointPath, enginePath, backend: 'tensorrt', precision: input.precision, referenceDevice: 'cuda' },
            { ...hb, env: gpuEnv(index) },
          ),
        );
      }, hb.signal);
    },

    /** Step 5: `trtexec --loadEngine --exportTimes` per shape; peak GPU memory from NVML or the log. */
    async bench(input: BuiltEngineInput, outDir: string): Promise<BenchReport> {
      const hb = toolkitCallOptions('bench');
      const started = Date.now();
      const { manifest } = input.source;
      const enginePath = await workspace.fetch(input.engine);
      const shapes = benchShapes(manifest);
      return slots.withGpu(async (index) => {
        const device = deviceOf(index);
        const results: BenchReport['shapes'] = [];
        let peak: { bytes: number | null; source: 'nvml' | 'trtexec-log' | null } = { bytes: null, source: null };
        let warmupQueries = 0;
        for (const [i, shape] of shapes.entries()) {
          hb.say(`timing ${JSON.stringify(shape)}`, i, shapes.length);
          const timesPath = join(outDir, `times.${i}.json`);
          const command = buildTrtexecBenchCommand({
            enginePath,
            version: host.tensorrt,
            inputs: manifest.inputs,
            shape,
            iterations: manifest.benchmark.iterations,
            ...(manifest.benchmark.minSeconds !== undefined ? { durationS: manifest.benchmark.minSeconds } : {}),
            timesPath,
            executable: trtexecPath,
          });
          let watcher: ReturnType<typeof execa> | undefined;
          const outcome = await runTrtexec({
            executable: command.executable,
            args: command.args,
            env: gpuEnv(index),
            logPath: join(outDir, `bench.${i}.log`),
            onLine: (line) => {
              const message = trtexecProgress(line);
              if (message) hb.say(message, i, shapes.length);
            },
            onSpawn: (pid) => {
              if (!host.nvml) return;
              watcher = execa(toolkit.python, ['-m', 'modelship_toolkit.tensorrt.gpumem', '--pid', String(pid), '--index', String(index)], {
                env: modelProcessEnv({ PYTHONPATH: toolkit.toolkitDir }),
                extendEnv: false,
                reject: false,
                timeout: 2 * 60 * 60 * 1000,
              });
            },
            keepAlive: hb.keepAlive,
            keepAliveMs: KEEP_ALIVE_MS,
            signal: hb.signal,
          });
          const failure = trtexecFailure(outcome, { what: `TensorRT benchmark of ${input.target.name} ${input.precision}`, workerId });
          if (failure) {
            watcher?.kill();
            throw failure;
          }
          const log = parseTrtexecLog(outcome.text);
          warmupQueries = Math.max(warmupQueries, log.inference?.warmupQueries ?? 0);
          const nvml = watcher ? parseWatcher(String((await watcher).stdout ?? '')) : undefined;
          const logPeak = log.memory.peakGpuMiB ?? log.memory.allocatorPeak?.gpuMiB ?? null;
          const seen = nvml ?? (logPeak !== null ? Math.round(logPeak * 2 ** 20) : null);
          if (seen !== null && (peak.bytes === null || seen > peak.bytes)) peak = { bytes: seen, source: nvml !== undefined ? 'nvml' : 'trtexec-log' };
          const summary = summarizeExportTimes(parseExportTimes(await readFile(timesPath, 'utf8')));
          const batch = batchOf(shape, manifest);
          const l = summary.latencyMs;
          results.push({
            shape,
            batch,
            latencyMs: { p50: l.p50, p95: l.p95, p99: l.p99, mean: l.mean, min: l.min, max: l.max },
            throughputPerSec: Number.isFinite(summary.throughputQps) ? summary.throughputQps * batch : 0,
          });
        }
        hb.say('done', shapes.length, shapes.length);
        return BenchReportSchema.parse({
          backend: 'tensorrt',
          precision: input.precision,
          warmup: warmupQueries,
          iterations: manifest.benchmark.iterations,
          shapes: results,
          peakMemoryBytes: peak.bytes ?? 0,
          threads: 1,
          host: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length },
          gpu: { name: device.name, index, peakMemoryBytes: peak.bytes, memorySource: peak.source, tensorrt: trtVersion },
          durationMs: Date.now() - started,
        });
      }, hb.signal);
    },
  };
}

function parseWatcher(stdout: string): number | undefined {
  try {
    const r = JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as { source?: string | null; peakBytes?: number | null };
    // 0 is no reading (NVML in a container), so the trtexec log's peak is used instead.
    return r.source === 'nvml' && typeof r.peakBytes === 'number' && r.peakBytes > 0 ? r.peakBytes : undefined;
  } catch {
    return undefined;
  }
}
