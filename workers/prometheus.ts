/**
 * Runs a real Prometheus (the `prometheus` binary, Debian's package by default) on loopback for
 * the tests and the dev stack: writes its config from scripts/prometheus/prometheus.yml.tmpl,
 * starts it with its storage in a given folder, waits for `/-/ready`, and stops it.
 *
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../lib/config.ts';
import { UserError } from '../lib/errors.ts';
import { PrometheusClient } from '../activities/metrics/prometheus-client.ts';

/** The config template. */
export const PROMETHEUS_CONFIG_TEMPLATE = fileURLToPath(new URL('../scripts/prometheus/prometheus.yml.tmpl', import.meta.url));

/** Options of {@link startPrometheus}. */
export interface StartPrometheusOptions {
  /** The serving runtimes to scrape, `host:port` each. */
  targets: readonly string[];
  /** Port on 127.0.0.1; default: a free one. */
  port?: number;
  /** Folder for the TSDB and the generated config (created). */
  dataDir: string;
  /** Scrape interval, Prometheus duration. Default `5s`; tests use `1s`. */
  scrapeInterval?: string;
  /** The binary: default `$MODELSHIP_PROMETHEUS_BIN`, else `/usr/bin/prometheus`, else `prometheus` on PATH. */
  binary?: string;
  /** How long to wait for `/-/ready` (and the first scrapes), milliseconds. Default 30 000. */
  readyTimeoutMs?: number;
  /**
   * Also wait until every target has been scraped once (its `up` series exists, whatever its
   * value). Prometheus applies new targets only every 5 s, so traffic sent right after start would
   * land before the first sample. Default true.
   */
  waitForFirstScrape?: boolean;
}

/** A running Prometheus. */
export interface RunningPrometheus {
  /** Base URL, `http://127.0.0.1:<port>`. */
  url: string;
  port: number;
  configFile: string;
  process: ChildProcess;
  /** Stops it (SIGTERM, then SIGKILL after 10 s); resolves once it has exited. */
  stop(): Promise<void>;
}

/** The Prometheus config text for `targets` at `scrapeInterval`. */
export async function renderPrometheusConfig(targets: readonly string[], scrapeInterval = '5s'): Promise<string> {
  if (!/^\d+(ms|s|m|h)$/.test(scrapeInterval)) throw new UserError(`scrapeInterval: expected a duration such as "5s", got ${JSON.stringify(scrapeInterval)}`);
  for (const t of targets) {
    if (!/^[A-Za-z0-9.\-[\]:]+:\d+$/.test(t)) throw new UserError(`targets: expected host:port, got ${JSON.stringify(t)}`);
  }
  const template = await readFile(PROMETHEUS_CONFIG_TEMPLATE, 'utf8');
  return template.replaceAll('{{SCRAPE_INTERVAL}}', scrapeInterval).replaceAll('{{TARGETS}}', JSON.stringify(targets));
}

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function defaultBinary(): string {
  const configured = loadConfig().prometheusBin;
  if (configured) return configured;
  return existsSync('/usr/bin/prometheus') ? '/usr/bin/prometheus' : 'prometheus';
}

/**
 * Starts Prometheus on loopback and waits until it is ready.
 *
 * @throws UserError when the binary is missing, or it exits or is not ready in time (with its log)
 */
export async function startPrometheus(opts: StartPrometheusOptions): Promise<RunningPrometheus> {
  const port = opts.port ?? (await freePort());
  await mkdir(join(opts.dataDir, 'tsdb'), { recursive: true });
  const configFile = join(opts.dataDir, 'prometheus.yml');
  await writeFile(configFile, await renderPrometheusConfig(opts.targets, opts.scrapeInterval));
  const binary = opts.binary ?? defaultBinary();
  const child = spawn(
    binary,
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${join(opts.dataDir, 'tsdb')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--storage.tsdb.retention.time=1d',
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let log = '';
  const collect = (b: Buffer) => {
    log = (log + b.toString()).slice(-8000);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  let spawnError: Error | undefined;
  const exit = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      resolve();
    });
    child.once('error', (e) => {
      spawnError = e;
      exited ??= { code: null, signal: null };
      resolve();
    });
  });
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (exited) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exit;
    clearTimeout(timer);
  };
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 30_000);
  for (;;) {
    if (spawnError) {
      throw new UserError(`cannot run Prometheus (${binary}): ${spawnError.message}`, 'install it: apt-get install -y --no-install-recommends prometheus, or set MODELSHIP_PROMETHEUS_BIN');
    }
    if (exited) throw new UserError(`Prometheus exited (code ${exited.code}, signal ${exited.signal}) before it was ready:\n${log}`, `check ${configFile} and that port ${port} is free`);
    try {
      const res = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new UserError(`Prometheus was not ready at ${url} within ${opts.readyTimeoutMs ?? 30_000} ms:\n${log}`, 'a slow disk? raise readyTimeoutMs');
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  if (opts.waitForFirstScrape ?? true) {
    const client = new PrometheusClient(url);
    for (;;) {
      const up = await client.query('up').catch(() => []);
      const seen = new Set(up.map((s) => s.labels.instance));
      if (opts.targets.every((t) => seen.has(t))) break;
      if (Date.now() > deadline) {
        await stop();
        throw new UserError(`Prometheus at ${url} did not scrape ${opts.targets.join(', ')} within ${opts.readyTimeoutMs ?? 30_000} ms:\n${log}`, 'check the targets are host:port of running serving runtimes');
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  return { url, port, configFile, process: child, stop };
}
