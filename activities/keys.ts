/**
 * Where things live in the artifact store. `runs/` holds a release's intermediate artifacts;
 * `packages/` holds the packages, kept for good.
 *
 * @module
 */
import type { Precision } from '../lib/manifest.ts';

/** Key prefix of a release's intermediate artifacts. */
export function runKey(model: string, tag: string, ...parts: string[]): string {
  return ['runs', model, tag, ...parts].join('/');
}

/** Key prefix of the package of one engine. */
export function packageKey(model: string, tag: string, target: string, precision: Precision, file?: string): string {
  return ['packages', model, tag, `${target}-${precision}`, ...(file ? [file] : [])].join('/');
}

/** Key of a file about the whole release, beside its packages (`release.json`, `report.html`). */
export function releaseFileKey(model: string, tag: string, file: string): string {
  return ['packages', model, tag, file].join('/');
}

/** Key of a release's package index. */
export function releaseIndexKey(model: string, tag: string): string {
  return releaseFileKey(model, tag, 'release.json');
}
