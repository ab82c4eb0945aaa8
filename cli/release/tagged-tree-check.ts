/**
 * What `release start` checks in the tagged tree before it spends the tag: every file the manifest
 * names is committed (checkpoint, metrics, data, the model's module), and the data files hold an
 * array per input with the right dtype and dims and enough samples (the toolkit's `data` command,
 * which loads no model code). Each problem names the manifest field.
 *
 * @module
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { committedFiles, extractCommitted } from '../../activities/git.ts';
import { defaultToolkitConfig, runToolkit } from '../../activities/toolkit.ts';
import { ErrorType, ManifestError, type FieldIssue } from '../../lib/errors.ts';
import type { Manifest } from '../../lib/manifest.ts';

/** A path the manifest names, with its field. */
interface NamedPath {
  field: string;
  path: string;
  what: string;
}

/** The repository files the manifest names (locations outside the repository are not checked here). */
export function namedPaths(m: Manifest): NamedPath[] {
  const inRepo = (p: string) => !/^[a-z][a-z0-9+.-]*:/i.test(p) && !p.startsWith('/');
  const out: NamedPath[] = [];
  if (inRepo(m.artifact.checkpoint)) out.push({ field: 'artifact.checkpoint', path: m.artifact.checkpoint, what: 'the checkpoint' });
  if (inRepo(m.artifact.metrics)) out.push({ field: 'artifact.metrics', path: m.artifact.metrics, what: 'the metrics file' });
  if (m.calibration) out.push({ field: 'calibration.path', path: m.calibration.path, what: 'the calibration data' });
  if (m.parity.data.kind === 'dataset') out.push({ field: 'parity.data.path', path: m.parity.data.path, what: 'the parity data' });
  return out.map((p) => ({ ...p, path: posix.normalize(p.path) }));
}

/** The files that can hold the entrypoint's module: `<pythonPath>/a/b.py` or `<pythonPath>/a/b/__init__.py`. */
export function moduleFiles(m: Manifest): string[] {
  const module = m.model.entrypoint.split(':')[0]!.replaceAll('.', '/');
  const base = posix.normalize(posix.join(m.model.pythonPath, module));
  return [`${base}.py`, `${base}/__init__.py`];
}

/**
 * Checks the tagged tree in `cloneDir` (a clone at the tag, see `withTaggedClone`).
 *
 * @param source - names the manifest in errors, e.g. `modelship.yaml at v1.2.0`
 * @throws {@link ManifestError} listing every problem, by manifest field
 */
export async function checkTaggedTree(cloneDir: string, manifest: Manifest, source: string, tag: string): Promise<void> {
  const files = await committedFiles(cloneDir);
  const issues: FieldIssue[] = [];
  for (const p of namedPaths(manifest)) {
    if (!files.has(p.path)) {
      issues.push({ field: p.field, message: `${p.what} ${p.path} is not committed at ${tag}; commit it (train.py writes it) and tag a new commit` });
    }
  }
  const modules = moduleFiles(manifest);
  if (!modules.some((f) => files.has(f))) {
    issues.push({ field: 'model.entrypoint', message: `neither ${modules.join(' nor ')} is committed at ${tag} (module of ${manifest.model.entrypoint}, under model.pythonPath "${manifest.model.pythonPath}")` });
  }
  const data = [...new Set(namedPaths(manifest).filter((p) => p.path.endsWith('.npz') && files.has(p.path)).map((p) => p.path))];
  if (!issues.length && data.length) issues.push(...(await checkData(cloneDir, manifest, data)));
  if (issues.length) throw new ManifestError(source, issues);
}

/** Runs the toolkit's `data` check on the committed data files. */
async function checkData(cloneDir: string, manifest: Manifest, paths: string[]): Promise<FieldIssue[]> {
  const dir = await mkdtemp(join(tmpdir(), 'modelship-data-'));
  try {
    await extractCommitted(cloneDir, paths, dir);
    await runToolkit(defaultToolkitConfig(join(dir, '.toolkit')), 'data', { repoDir: dir, manifest });
    return [];
  } catch (err) {
    const e = err instanceof ApplicationFailure && err.type === ErrorType.BadInput ? (err.details?.[0] as { field?: string; message: string; hint?: string } | undefined) : undefined;
    if (!e?.field) throw err;
    return [{ field: e.field.replace(/^manifest\./, ''), message: `${e.message}${e.hint ? ` (${e.hint})` : ''}` }];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
