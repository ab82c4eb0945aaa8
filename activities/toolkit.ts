/**
 * Calls the Python toolkit: one process per request, progress lines turned into heartbeats, exit
 * codes turned into retryable or non-retryable failures, and the result validated against the
 * contract in lib/toolkit-contract.ts.
 *
 * @module
 */
import { loadConfig, PROJECT_ROOT } from '../lib/config.ts';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { execa } from 'execa';
import { ApplicationFailure } from '@temporalio/common';
import { ErrorType } from '../lib/errors.ts';
import { modelProcessEnv } from './process-env.ts';
import {
  ProgressEventSchema,
  TOOLKIT_COMMANDS,
  ToolkitErrorResultSchema,
  ToolkitExit,
  type ProgressEvent,
  type ToolkitCommand,
  type ToolkitRequest,
  type ToolkitResult,
} from '../lib/toolkit-contract.ts';

/** The project root (where `.venv/` and `toolkit/` live). */
export { PROJECT_ROOT };

/** How to run the toolkit on this host. */
export interface ToolkitConfig {
  /** Python interpreter; default `$MODELSHIP_PYTHON` or the project's `.venv/bin/python`. */
  python: string;
  /** Folder holding the `modelship_toolkit` package. */
  toolkitDir: string;
  /** Where request/result files go. */
  scratchDir: string;
}

/** The toolkit configuration from the environment and the project layout. */
export function defaultToolkitConfig(scratchDir: string): ToolkitConfig {
  return {
    python: loadConfig().python,
    toolkitDir: join(PROJECT_ROOT, 'toolkit'),
    scratchDir,
  };
}

/** Options of one toolkit call. */
export interface ToolkitCallOptions {
  /** Receives each progress line. */
  onProgress?: (event: ProgressEvent) => void;
  /** Ends the process (SIGTERM, then SIGKILL) when aborted, e.g. on activity cancellation. */
  signal?: AbortSignal;
  /** Extra environment. */
  env?: Record<string, string>;
  /** Called every {@link KEEP_ALIVE_MS} while the process lives (activity heartbeats). */
  keepAlive?: () => void;
}

/** How often a running toolkit process is reported alive. */
export const KEEP_ALIVE_MS = 5000;

/** The toolkit gate said no: the result is a full report with a failing verdict. */
export class ToolkitGateFailure<C extends ToolkitCommand> extends Error {
  override readonly name = 'ToolkitGateFailure';
  constructor(
    readonly command: C,
    readonly report: ToolkitResult<C>,
  ) {
    super(`${command}: the gate said no`);
  }
}

/** The report of a gate command (`parity`), also when its gate said no: the workflow decides what a failing verdict means. */
export async function reportEvenIfGateFailed<T>(run: Promise<T>): Promise<T> {
  try {
    return await run;
  } catch (err) {
    if (err instanceof ToolkitGateFailure) return err.report as T;
    throw err;
  }
}

/**
 * Runs `python -m modelship_toolkit <command>` and returns its validated result.
 *
 * @throws ApplicationFailure `BadInput` (exit 2, not retryable), {@link ToolkitGateFailure}
 *   (exit 3), or ApplicationFailure `Infrastructure` (any other exit: retryable)
 */
export async function runToolkit<C extends ToolkitCommand>(
  config: ToolkitConfig,
  command: C,
  request: ToolkitRequest<C>,
  options: ToolkitCallOptions = {},
): Promise<ToolkitResult<C>> {
  await mkdir(config.scratchDir, { recursive: true });
  const id = `${command}-${randomUUID()}`;
  const requestPath = join(config.scratchDir, `${id}.request.json`);
  const resultPath = join(config.scratchDir, `${id}.result.json`);
  await writeFile(requestPath, JSON.stringify(request));
  try {
    const child = execa(config.python, ['-m', 'modelship_toolkit', command, '--request', requestPath, '--result', resultPath], {
      // Model code runs in this process: an allowlisted environment, never the worker's credentials.
      env: modelProcessEnv({ PYTHONPATH: config.toolkitDir, PYTHONUNBUFFERED: '1', ...options.env }),
      extendEnv: false,
      cancelSignal: options.signal,
      forceKillAfterDelay: 5000,
      reject: false,
      buffer: { stdout: false, stderr: true },
    });
    child.stdout?.setEncoding('utf8');
    let pending = '';
    child.stdout?.on('data', (chunk: string) => {
      pending += chunk;
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        const event = parseProgress(line);
        if (event) options.onProgress?.(event);
      }
    });
    const timer = options.keepAlive ? setInterval(options.keepAlive, KEEP_ALIVE_MS) : undefined;
    const outcome = await child.finally(() => clearInterval(timer));
    const stderrTail = String(outcome.stderr ?? '').trim().split('\n').slice(-20).join('\n');
    if (outcome.isCanceled) throw ApplicationFailure.retryable(`toolkit ${command} was cancelled`, ErrorType.Infrastructure);
    const raw = await readResult(resultPath);
    if (outcome.exitCode === ToolkitExit.Ok || outcome.exitCode === ToolkitExit.GateFailed) {
      const parsed = TOOLKIT_COMMANDS[command].result.safeParse(raw);
      if (!parsed.success) {
        throw ApplicationFailure.retryable(
          `toolkit ${command} wrote a result that breaks the contract: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
          ErrorType.Infrastructure,
        );
      }
      const result = parsed.data as ToolkitResult<C>;
      if (outcome.exitCode === ToolkitExit.GateFailed) throw new ToolkitGateFailure(command, result);
      return result;
    }
    if (outcome.exitCode === ToolkitExit.BadInput) {
      const err = ToolkitErrorResultSchema.safeParse(raw);
      const e = err.success ? err.data.error : { message: stderrTail || 'bad input', field: undefined, hint: undefined, type: ErrorType.BadInput };
      const where = e.field ? `${e.field}: ` : '';
      throw ApplicationFailure.nonRetryable(`${where}${e.message}${e.hint ? ` (${e.hint})` : ''}`, ErrorType.BadInput, e);
    }
    throw ApplicationFailure.retryable(
      `toolkit ${command} exited with ${outcome.exitCode ?? outcome.signal}: ${stderrTail || '(no output)'}`,
      ErrorType.Infrastructure,
    );
  } finally {
    await rm(requestPath, { force: true });
    await rm(resultPath, { force: true });
  }
}

function parseProgress(line: string): ProgressEvent | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const parsed = ProgressEventSchema.safeParse(JSON.parse(line));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

async function readResult(path: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, 'utf8'));
  } catch {
    return undefined;
  }
}
