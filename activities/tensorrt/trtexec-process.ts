/**
 * Runs trtexec as a child process: its output streamed line by line (to the caller, for
 * heartbeats, and to a log file), a keep-alive while it runs, and cancellation that ends it
 * (SIGTERM, then SIGKILL after a grace period).
 *
 * @module
 */
import { createWriteStream } from 'node:fs';
import { execa } from 'execa';
import { modelProcessEnv } from '../process-env.ts';

/** How long trtexec gets after SIGTERM before SIGKILL. */
export const TRTEXEC_KILL_GRACE_MS = 5000;

/** What one trtexec run needs. */
export interface TrtexecRun {
  executable: string;
  args: string[];
  /** Added to the environment (e.g. `CUDA_VISIBLE_DEVICES`). */
  env?: Record<string, string>;
  /** The whole output goes here as it comes. */
  logPath: string;
  /** Each output line (stdout and stderr interleaved). */
  onLine?: (line: string) => void;
  /** Called every `keepAliveMs` while the process lives. */
  keepAlive?: () => void;
  keepAliveMs?: number;
  /** Called once with the child's pid (e.g. to watch its GPU memory). */
  onSpawn?: (pid: number) => void;
  /** Aborting ends the process: SIGTERM, then SIGKILL after {@link TRTEXEC_KILL_GRACE_MS}. */
  signal?: AbortSignal;
}

/** How a run ended. */
export interface TrtexecOutcome {
  exitCode: number | undefined;
  /** The signal that ended it, e.g. `SIGKILL`. */
  signal: string | undefined;
  /** Ended because `signal` was aborted. */
  canceled: boolean;
  /** The whole output. */
  text: string;
  pid: number | undefined;
  /** The executable could not be started at all (ENOENT, EACCES). */
  spawnError?: string;
}

/** Runs trtexec to the end (or until cancelled); never rejects on a non-zero exit. */
export async function runTrtexec(run: TrtexecRun): Promise<TrtexecOutcome> {
  const log = createWriteStream(run.logPath);
  const child = execa(run.executable, run.args, {
    // trtexec parses the model's ONNX (and may load plugins): the same allowlist as the toolkit.
    env: modelProcessEnv(run.env),
    extendEnv: false,
    cancelSignal: run.signal,
    forceKillAfterDelay: TRTEXEC_KILL_GRACE_MS,
    killSignal: 'SIGTERM',
    reject: false,
    all: true,
    buffer: false,
    stdin: 'ignore',
  });
  if (child.pid !== undefined) run.onSpawn?.(child.pid);
  const chunks: string[] = [];
  let pending = '';
  child.all?.setEncoding('utf8');
  child.all?.on('data', (chunk: string) => {
    chunks.push(chunk);
    log.write(chunk);
    pending += chunk;
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl).replace(/\r$/, '');
      pending = pending.slice(nl + 1);
      run.onLine?.(line);
    }
  });
  const timer = run.keepAlive ? setInterval(run.keepAlive, run.keepAliveMs ?? 5000) : undefined;
  try {
    const r = await child;
    if (pending) run.onLine?.(pending);
    const spawnError = r.failed && r.exitCode === undefined && !r.isCanceled && !r.signal ? r.originalMessage || r.shortMessage : undefined;
    return { exitCode: r.exitCode, signal: r.signal, canceled: r.isCanceled || Boolean(run.signal?.aborted), text: chunks.join(''), pid: child.pid, spawnError };
  } finally {
    clearInterval(timer);
    await new Promise<void>((resolve) => log.end(resolve));
  }
}

/** A trtexec output line as a progress message people can follow, or `undefined` for the rest. */
export function trtexecProgress(line: string): string | undefined {
  const text = line.replace(/^\[[^\]]*\]\s*\[[A-Z]\]\s*(?:\[TRT\]\s*)?/, '').trim();
  const rules: [RegExp, (m: RegExpExecArray) => string][] = [
    [/^&&&& RUNNING TensorRT\.trtexec \[TensorRT v(\d+)\]/, (m) => `trtexec started (TensorRT v${m[1]})`],
    [/^Start parsing network model/, () => 'parsing the ONNX model'],
    [/^Finished parsing network model\. Parse time: ([\d.]+)/, (m) => `parsed the ONNX model in ${Number(m[1]).toFixed(2)} s`],
    [/^\[MemUsageChange\] Init builder kernel library/, () => 'builder ready; choosing tactics'],
    [/^Local timing cache in use|^Loaded \d+ bytes of timing cache|timing cache/i, () => text.slice(0, 160)],
    [/^Detected \d+ inputs and \d+ output network tensors/, () => text],
    [/^Engine generation completed in ([\d.]+) seconds/, (m) => `engine generated in ${Number(m[1]).toFixed(1)} s`],
    [/^Created engine with size: ([\d.]+) MiB/, (m) => `engine created (${Number(m[1]).toFixed(1)} MiB)`],
    [/^Engine built in ([\d.]+) sec/, (m) => `Engine built in ${Number(m[1]).toFixed(1)} s`],
    [/^Starting inference/, () => 'timing inference'],
    [/^Timing trace has (\d+) queries over ([\d.]+) s/, (m) => `timed ${m[1]} queries over ${Number(m[2]).toFixed(1)} s`],
    [/^&&&& (PASSED|FAILED)/, (m) => `trtexec ${m[1]!.toLowerCase()}`],
  ];
  for (const [re, say] of rules) {
    const m = re.exec(text);
    if (m) return say(m);
  }
  if (/\[E\]/.test(line)) return `error: ${text.slice(0, 200)}`;
  return undefined;
}
