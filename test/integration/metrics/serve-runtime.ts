/**
 * Test helpers of the metrics integration tests: the release packages of build_packages.py, a real
 * serving runtime (`python -m modelship_toolkit.serve`) on a loopback port, its admin API, and
 * traffic.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { execa } from 'execa';

const ROOT = resolve(import.meta.dirname, '../../..');
const PYTHON = join(ROOT, '.venv/bin/python');
const ENV = { ...process.env, PYTHONPATH: join(ROOT, 'toolkit') };
const TOKEN = 'metrics-test-token';

/** Package folders by version. */
export type Packages = Record<'v1.0.0' | 'v2.0.0' | 'v2.1.0' | 'v3.0.0' | 'slow-1' | 'flaky-1', string>;

/** Builds the test packages under `dir`. */
export async function buildPackages(dir: string): Promise<Packages> {
  const { stdout } = await execa(PYTHON, [join(import.meta.dirname, 'build_packages.py'), dir], { env: ENV });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as Packages;
}

/** A running serving runtime. */
export interface Runtime {
  url: string;
  /** `host:port`, a Prometheus target. */
  target: string;
  admin(op: string, body?: unknown): Promise<unknown>;
  stop(): Promise<void>;
}

/** Starts the runtime serving `stablePackage` on a free loopback port. */
export async function startRuntime(dir: string, stablePackage: string): Promise<Runtime> {
  const tokenFile = join(dir, 'admin-token');
  await writeFile(tokenFile, TOKEN);
  const child: ChildProcess = spawn(
    PYTHON,
    ['-m', 'modelship_toolkit.serve', '--port', '0', '--admin-token-file', tokenFile, '--stable-package', stablePackage,
      '--model-name', 'digits', '--batch-window-ms', '1', '--intra-op-threads', '1', '--log-level', 'WARNING'],
    { env: ENV, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let log = '';
  child.stderr!.on('data', (b: Buffer) => (log = (log + b.toString()).slice(-4000)));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const port = await new Promise<number>((resolvePort, reject) => {
    const rl = createInterface({ input: child.stdout! });
    rl.on('line', (line) => {
      try {
        const ev = JSON.parse(line) as { event?: string; port?: number };
        if (ev.event === 'listening' && ev.port) resolvePort(ev.port);
      } catch {
        // not JSON
      }
    });
    child.once('exit', (code) => reject(new Error(`serving runtime exited (${code}) before listening:\n${log}`)));
  });
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    target: `127.0.0.1:${port}`,
    async admin(op, body) {
      const res = await fetch(`${url}/admin/${op}`, {
        method: body === undefined && op === 'state' ? 'GET' : 'POST',
        headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
        ...(op === 'state' ? {} : { body: JSON.stringify(body ?? {}) }),
      });
      const obj: unknown = await res.json();
      if (!res.ok) throw new Error(`admin ${op}: ${res.status} ${JSON.stringify(obj)}`);
      return obj;
    },
    async stop() {
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

/** What a burst of traffic got back. */
export interface TrafficReport {
  sent: number;
  byStatus: Record<number, number>;
  byVariant: Record<string, number>;
}

function body(i: number): string {
  const data = Array.from({ length: 64 }, (_, k) => Math.sin(i * 7.31 + k) * 0.5 + 0.5);
  return JSON.stringify({ id: randomUUID(), inputs: [{ name: 'input', shape: [1, 1, 8, 8], datatype: 'FP32', data }], parameters: { label: i % 10 } });
}

/** Sends `count` labelled requests with random ids (routed by the weights), `concurrency` at a time. */
export async function sendTraffic(url: string, count: number, opts: { concurrency?: number; version?: string } = {}): Promise<TrafficReport> {
  const report: TrafficReport = { sent: 0, byStatus: {}, byVariant: {} };
  const path = opts.version ? `/v2/models/digits/versions/${opts.version}/infer` : '/v2/models/digits/infer';
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const res = await fetch(`${url}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: body(i) });
      await res.arrayBuffer();
      report.sent += 1;
      report.byStatus[res.status] = (report.byStatus[res.status] ?? 0) + 1;
      const v = res.headers.get('x-modelship-variant') ?? 'none';
      report.byVariant[v] = (report.byVariant[v] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency ?? 8 }, worker));
  return report;
}

/** Resolves after `ms`. */
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
