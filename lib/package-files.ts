/**
 * The `files` listing of a release package's `metadata.json` (`{name: {sha256, bytes}}`), as the
 * rollout reads it to stage a package on the serving host. A package is flat: each name is a plain
 * file name, so staging can never write outside its folder whatever a crafted metadata says.
 *
 * @module
 */
import { z } from 'zod';
import { UserError } from './errors.ts';

/** A file name inside a package: no folders, no `.`/`..`, no leading dot. */
export const PACKAGE_FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** The zod schema of `metadata.json`'s `files`. */
export const PackageFilesSchema = z
  .record(
    z.string().regex(PACKAGE_FILE_NAME, 'expected a plain file name (letters, digits, . _ -), no folders'),
    z.object({ sha256: z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 hex digits'), bytes: z.int().nonnegative() }),
  )
  .refine((files) => Object.keys(files).length > 0, 'expected at least one file');

/** The package's file listing from a parsed `metadata.json`; throws a {@link UserError} naming the field. */
export function packageFiles(metadata: unknown, source = 'metadata.json'): z.infer<typeof PackageFilesSchema> {
  const files = metadata && typeof metadata === 'object' ? (metadata as { files?: unknown }).files : undefined;
  const r = PackageFilesSchema.safeParse(files);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const path = ['files', ...issue.path.map(String)].join('.');
  throw new UserError(`${source} ${path.slice(0, 200)}: ${issue.message}`, 'a package lists its own flat files with their sha256; this one was not written by modelship');
}
