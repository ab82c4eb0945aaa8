/**
 * `modelship trtexec parse <log> [--json]`: read a trtexec log and print what it says.
 *
 * @module
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { classifyTrtexecFailure } from '../../lib/trtexec/classify.ts';
import { parseTrtexecLog, TrtexecLogError } from '../../lib/trtexec/parse-log.ts';
import { formatTrtexecLog } from './format-log.ts';

/** Reads, parses and prints one log; returns the process exit code. */
export async function runTrtexecParse(
  path: string,
  opts: { json?: boolean },
  io: { out: (s: string) => void; err: (s: string) => void } = { out: (s) => console.log(s), err: (s) => console.error(s) },
): Promise<number> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    io.err(`modelship: cannot read trtexec log "${path}"${code ? ` (${code})` : ''}: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
  try {
    const log = parseTrtexecLog(text);
    const failure = classifyTrtexecFailure(log, text);
    io.out(opts.json ? JSON.stringify({ ...log, failure }, null, 2) : formatTrtexecLog(log, failure));
    return 0;
  } catch (err) {
    if (err instanceof TrtexecLogError) {
      io.err(`modelship: "${path}" is not a trtexec log: ${err.message}`);
      return 1;
    }
    throw err;
  }
}

/** Adds `modelship trtexec parse`. */
export function registerTrtexecCommand(program: Command): void {
  const trtexec = program.command('trtexec').description('TensorRT trtexec helpers');
  trtexec
    .command('parse')
    .description('parse a trtexec log: version, status, build options, engine, memory, performance, failure class')
    .argument('<log>', 'trtexec stdout/stderr saved to a file')
    .option('--json', 'print the parsed result as JSON')
    .action(async (log: string, opts: { json?: boolean }) => {
      const code = await runTrtexecParse(log, opts);
      if (code !== 0) process.exitCode = code;
    });
}
