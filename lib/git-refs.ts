/**
 * What a release accepts as a tag and a repository, checked before git runs: a tag is a name that
 * passes `git check-ref-format refs/tags/<name>` (so `v1.0.0^0`, `v1.0.0~0`, `v1.0.0^{}` or
 * `v2.0.0~1` — revisions, not tags — are refused), and a repository is a local path or a `file`,
 * `https` or `ssh` URL with no credentials in it (they would be kept in the workflow's history).
 *
 * @module
 */
import { UserError } from './errors.ts';

/** Transports git may use for model repositories (also passed to git as `GIT_ALLOW_PROTOCOL`). */
export const ALLOWED_GIT_PROTOCOLS = ['file', 'https', 'ssh'] as const;

/**
 * The reason `name` is not a valid tag name (git's check-ref-format rules for `refs/tags/<name>`),
 * or `null` when it is one.
 */
export function tagNameProblem(name: string): string | null {
  if (name.length === 0) return 'it is empty';
  if (name.length > 200) return 'it is longer than 200 characters';
  if (name.startsWith('-')) return 'it starts with "-"';
  // eslint-disable-next-line no-control-regex -- control characters are exactly what git refuses
  if (/[\x00-\x20\x7f~^:?*[\\]/.test(name)) return 'it contains a space, a control character or one of ~ ^ : ? * [ \\ (a revision such as v1.0.0^0 is not a tag)';
  if (name.includes('..')) return 'it contains ".."';
  if (name.includes('@{') || name === '@') return 'it contains "@{" or is "@"';
  if (name.startsWith('/') || name.endsWith('/') || name.includes('//')) return 'it has an empty path component';
  if (name.endsWith('.')) return 'it ends with "."';
  for (const part of name.split('/')) {
    if (part.startsWith('.')) return `its component "${part}" starts with "."`;
    if (part.endsWith('.lock')) return `its component "${part}" ends with ".lock"`;
  }
  return null;
}

/** Throws a {@link UserError} naming `--tag` when `tag` is not a valid tag name. */
export function assertTagName(tag: string): void {
  const problem = tagNameProblem(tag);
  if (problem) {
    throw new UserError(`--tag ${JSON.stringify(tag.slice(0, 100))} is not a tag name: ${problem}`, 'release a tag by its name, e.g. --tag v1.2.0 (git tag --list shows them)');
  }
}

/** `scheme://user:secret@host/...` → `scheme://***@host/...` in any text (errors, logs, memos). */
export function redactCredentials(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^\s/@]+@/gi, '$1***@');
}

/**
 * Throws a {@link UserError} naming `--repo` unless `repo` is a local path or a `file`, `https` or
 * `ssh` URL (or scp-like `user@host:path`) without credentials.
 */
export function assertRepoLocation(repo: string): void {
  const fail = (why: string, hint: string) => {
    throw new UserError(`--repo ${JSON.stringify(redactCredentials(repo).slice(0, 200))} ${why}`, hint);
  };
  if (repo.length === 0) fail('is empty', 'pass a local path or an https/ssh URL of the model repository');
  if (repo.startsWith('-')) fail('starts with "-" (git would read it as an option)', 'pass a path such as ./-repo');
  // eslint-disable-next-line no-control-regex -- refusing control characters
  if (/[\x00-\x1f\x7f]/.test(repo)) fail('contains a control character', 'pass the path or URL as it is');
  if (/^[a-z][a-z0-9+.-]*::/i.test(repo)) fail('names a git remote helper (<transport>::...), which can run commands', 'use a local path or an https/ssh URL');
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(repo)?.[1]?.toLowerCase();
  if (scheme !== undefined) {
    if (!(ALLOWED_GIT_PROTOCOLS as readonly string[]).includes(scheme)) fail(`uses ${scheme}://; modelship clones only over ${ALLOWED_GIT_PROTOCOLS.join(', ')}`, 'use an https:// or ssh:// URL');
    const userinfo = /^[a-z][a-z0-9+.-]*:\/\/([^/]*)@/i.exec(repo)?.[1];
    // https://TOKEN@host or any user:password@: secrets. ssh://git@host is a user name, not a secret.
    if (userinfo !== undefined && (scheme === 'https' || userinfo.includes(':'))) {
      fail('holds credentials; they would be kept in the workflow history and shown in the UI', 'give the workers a git credential helper or an SSH key instead, and pass the URL without user:token@');
    }
  }
}
