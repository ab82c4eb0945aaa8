/**
 * `modelship dev`: the local stack — the real Temporal dev server (SQLite under `.modelship/`, UI
 * on 8233, search attributes registered), the serving runtime on 8100, a real Prometheus on 9090
 * scraping it (or direct scrapes of the runtime when Prometheus is not installed), and the control
 * and CPU workers, until Ctrl-C.
 *
 * @module
 */
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { NativeConnection } from '@temporalio/worker';
import { Client, Connection } from '@temporalio/client';
import { startPrometheus, type RunningPrometheus } from '../workers/prometheus.ts';
import { loadConfig } from '../lib/config.ts';
import { CPU_QUEUE } from '../lib/task-queues.ts';
import { isServerUp, startDevServer, type DevServer } from '../workers/dev-server.ts';
import { startServingRuntime, type ServingRuntime } from '../workers/serving-runtime.ts';
import { createGpuWorkers, type GpuWorkers } from '../workers/gpu-worker.ts';
import { createWorkers, runWorkers } from '../workers/start-workers.ts';
import { DeliveryLog, devWebhookConfig, releaseStarter, startWebhookReceiver, type WebhookReceiver } from '../triggers/webhook/index.ts';
import { workflowUiUrl } from './connection.ts';

/** A running local stack. */
export interface DevStack {
  address: string;
  uiUrl: string;
  runtime: ServingRuntime;
  /** `prometheus <url>` or `direct scrapes of <runtime>`. */
  metricsSource: string;
  /** The tag webhook receiver, when the stack has a port for it. */
  webhook?: { url: string; configFile: string; repositories: number };
  /** The GPU worker of this stack (with `gpu: true`): its host, queues and description. */
  gpu?: Omit<GpuWorkers, 'workers'>;
  /** Stops the workers, then what this process started. */
  stop(): Promise<void>;
  /** Resolves when the workers stop. */
  running: Promise<void>;
}

/** Ports of the local stack. */
export interface DevPorts {
  temporal: number;
  ui: number;
  runtime: number;
  /** The runtime's gRPC port (Open Inference Protocol); none when absent. */
  runtimeGrpc?: number;
  prometheus: number;
  /** The tag webhook receiver (`POST /webhooks/github`, `/webhooks/gitlab`); none when absent. */
  webhook?: number;
}

/** The ports `modelship dev` uses. */
export const DEFAULT_PORTS: DevPorts = { temporal: 7233, ui: 8233, runtime: 8100, runtimeGrpc: 8101, prometheus: 9090, webhook: 8102 };

/** What else the stack runs. */
export interface DevStackOptions {
  /** Also run a GPU worker (TensorRT steps on `gpu-<arch>` queues) in this process. */
  gpu?: boolean;
}

/** Starts (or joins) the dev server, then the runtime, Prometheus and the workers in this process. */
export async function startDevStack(
  home = loadConfig().home,
  ports: DevPorts = DEFAULT_PORTS,
  options: DevStackOptions = {},
): Promise<DevStack> {
  const address = `127.0.0.1:${ports.temporal}`;
  const started: { stop(): Promise<void> }[] = [];
  try {
    let server: DevServer | undefined;
    if (!(await isServerUp(address))) {
      server = await startDevServer({ home, port: ports.temporal, uiPort: ports.ui });
      started.push(server);
    }
    const runtime = await startServingRuntime({ home, port: ports.runtime, grpcPort: ports.runtimeGrpc });
    started.push(runtime);
    let prometheus: RunningPrometheus | undefined;
    try {
      prometheus = await startPrometheus({ targets: [`127.0.0.1:${ports.runtime}`], port: ports.prometheus, dataDir: join(home, 'prometheus'), scrapeInterval: '1s' });
      started.push(prometheus);
    } catch (err) {
      console.warn(`Prometheus did not start (${(err as Error).message.split('\n')[0]}); analysis scrapes the runtime directly`);
    }
    const connection = await NativeConnection.connect({ address });
    const workers = await createWorkers({
      connection,
      control: true,
      targetQueues: [CPU_QUEUE],
      home,
      runtime: { url: runtime.url, token: (await readFile(runtime.tokenFile, 'utf8')).trim() },
      metrics: { prometheusUrl: prometheus?.url, serveUrl: runtime.url },
    });
    let gpu: GpuWorkers | undefined;
    if (options.gpu) {
      gpu = await createGpuWorkers({ connection, home });
      workers.push(...gpu.workers);
    }
    let webhook: DevStack['webhook'];
    if (ports.webhook !== undefined) {
      const receiver = await startDevWebhookReceiver(home, address, ports.webhook);
      started.push(receiver);
      webhook = { url: receiver.url, configFile: receiver.configFile, repositories: receiver.repositories };
    }
    const running = runWorkers(workers);
    return {
      ...(webhook ? { webhook } : {}),
      address,
      uiUrl: `http://localhost:${ports.ui}`,
      runtime,
      ...(gpu ? { gpu: { host: gpu.host, queues: gpu.queues, workerId: gpu.workerId, description: gpu.description } } : {}),
      metricsSource: prometheus ? `prometheus ${prometheus.url}` : `direct scrapes of ${runtime.url}/metrics`,
      running,
      async stop() {
        for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
        await running;
        await connection.close();
        for (const s of started.reverse()) await s.stop();
      },
    };
  } catch (err) {
    for (const s of started.reverse()) await s.stop().catch(() => {});
    throw err;
  }
}

/** The dev stack's webhook receiver, configured by `<home>/webhooks.yaml` (written on first start). */
async function startDevWebhookReceiver(home: string, address: string, port: number): Promise<WebhookReceiver & { configFile: string; repositories: number }> {
  const config = devWebhookConfig(home);
  const connection = await Connection.connect({ address });
  try {
    const receiver = await startWebhookReceiver({
      config,
      deliveries: new DeliveryLog(join(home, 'webhook-deliveries.jsonl')),
      start: releaseStarter(new Client({ connection, identity: 'modelship-webhook' }), config),
      uiUrl: (id) => workflowUiUrl(id),
      port,
    });
    return {
      ...receiver,
      configFile: config.source,
      repositories: config.repositories.length,
      async stop() {
        await receiver.stop();
        await connection.close();
      },
    };
  } catch (err) {
    await connection.close();
    throw err;
  }
}

/** Adds the `dev` command. */
export function registerDevCommand(program: Command): void {
  program
    .command('dev')
    .description('run the local stack: Temporal dev server (UI :8233), serving runtime (HTTP :8100, gRPC :8101), Prometheus (:9090), tag webhooks (:8102), control + cpu workers')
    .option('--gpu', 'also run a GPU worker (TensorRT steps) in the stack')
    .action(async (opts: { gpu?: boolean }) => {
      const stack = await startDevStack(undefined, DEFAULT_PORTS, { gpu: Boolean(opts.gpu) });
      if (stack.gpu) console.log(`GPU worker ${stack.gpu.description}`);
      if (stack.webhook) console.log(`Tag webhooks: ${stack.webhook.url}/webhooks/github and /webhooks/gitlab (${stack.webhook.repositories} repositories allowed in ${stack.webhook.configFile})`);
      console.log(`Temporal ${stack.address}, UI ${stack.uiUrl}; runtime ${stack.runtime.url}${stack.runtime.grpcAddress ? ` (gRPC ${stack.runtime.grpcAddress})` : ''}; metrics: ${stack.metricsSource}. Ctrl-C stops everything.`);
      const stop = () => void stack.stop();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      await stack.running;
    });
}
