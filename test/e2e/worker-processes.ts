/**
 * `modelship worker` processes, each in its own process group (so kill -9 takes its toolkit
 * children too, as when a machine dies), logging to a file; for the cluster tests and the scale
 * benchmark.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../activities/toolkit.ts';

/** Where the workers connect and what they share. */
export interface WorkerProcessSetup {
  address: string;
  home: string;
  logDir: string;
  env: Record<string, string>;
}

/** The worker processes of one stack, by id. */
export class WorkerProcesses {
  private readonly children = new Map<string, ChildProcess>();
  constructor(private readonly setup: WorkerProcessSetup) {}

  /** Starts `modelship worker --queue <queue> --worker-id <id> [args]` (extra env: e.g. a build ID; args: e.g. `--slots 2`). */
  spawn(id: string, queue: string, env: Record<string, string> = {}, args: string[] = []): ChildProcess {
    const log = createWriteStream(join(this.setup.logDir, `worker-${id}.log`));
    const child = spawn(process.execPath, ['--import', 'tsx', 'cli/index.ts', '--address', this.setup.address, 'worker', '--queue', queue, '--worker-id', id, ...args], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, MODELSHIP_HOME: this.setup.home, MODELSHIP_ARTIFACTS: join(this.setup.home, 'artifacts'), ...this.setup.env, ...env },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.pipe(log);
    child.stderr!.pipe(log);
    this.children.set(id, child);
    return child;
  }

  /** kill -9 of the worker and everything it started. */
  kill9(id: string): void {
    const child = this.children.get(id);
    try {
      process.kill(-child!.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
    this.children.delete(id);
  }

  /** Peak resident memory (VmHWM, bytes) of each running worker's node process. */
  peakMemory(): Record<string, number> {
    return Object.fromEntries([...this.children].map(([id, c]) => [id, peakRss(c.pid!)]));
  }

  /** kill -9 of every worker. */
  killAll(): void {
    for (const id of [...this.children.keys()]) this.kill9(id);
  }
}

/** A process's peak resident memory in bytes (Linux VmHWM), 0 when it is gone. */
export function peakRss(pid: number): number {
  try {
    const kb = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmHWM:\s+(\d+) kB/m)?.[1];
    return kb ? Number(kb) * 1024 : 0;
  } catch {
    return 0;
  }
}
