/**
 * How a person runs this CLI from their shell: `modelship` when it is on PATH (npm link, a global
 * install), else `npx modelship` (works in the project folder after `npm ci`). Commands the CLI
 * prints for people to copy start with this.
 *
 * @module
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Is there an executable named `name` on PATH? */
function onPath(name: string, path = process.env.PATH ?? ''): boolean {
  return path.split(delimiter).filter(Boolean).some((dir) => {
    try {
      accessSync(join(dir, name), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** The command prefix to print: `modelship` or `npx modelship`. */
export function cliCommand(path?: string): string {
  return onPath('modelship', path) ? 'modelship' : 'npx modelship';
}
