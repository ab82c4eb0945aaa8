/**
 * Access to the recorded trtexec outputs under test/fixtures/trtexec/ (see SOURCES.md there).
 *
 * @module
 */
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Folder of the recorded trtexec fixtures. */
export const FIXTURE_DIR = fileURLToPath(new URL('../../fixtures/trtexec/', import.meta.url));

/** Reads one fixture as UTF-8 text. */
export function fixture(name: string): string {
  return readFileSync(FIXTURE_DIR + name, 'utf8');
}

/** Names of every fixture with the given extension. */
export function fixtureNames(ext: '.log' | '.json'): string[] {
  return readdirSync(FIXTURE_DIR)
    .filter((f) => f.endsWith(ext))
    .sort();
}
