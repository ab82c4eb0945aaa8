/**
 * Git access to model repositories (a local path or any URL git can clone).
 *
 * @module
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { UserError } from '../lib/errors.ts';
import { ALLOWED_GIT_PROTOCOLS, assertRepoLocation, assertTagName, redactCredentials } from '../lib/git-refs.ts';

/**
 * Runs git and returns stdout; a failure becomes an Error carrying git's message (credentials in
 * URLs redacted). Only the file, https and ssh transports, whatever the worker's environment says.
 */
async function git(args: string[], cwd?: string): Promise<string> {
  const r = await execa('git', args, {
    cwd,
    reject: false,
    env: { GIT_TERMINAL_PROMPT: '0', GIT_ALLOW_PROTOCOL: ALLOWED_GIT_PROTOCOLS.join(':') },
  });
  if (r.exitCode !== 0) throw new Error(redactCredentials(`git ${args.join(' ')} failed: ${r.stderr.trim() || r.stdout.trim()}`));
  return r.stdout;
}

/**
 * Clones a repository and checks out a tag, detached.
 *
 * @returns the tagged commit's full hash
 * @throws {@link UserError} naming the repository or the tag when either is missing
 */
export async function checkoutTag(repo: string, tag: string, dir: string): Promise<string> {
  assertRepoLocation(repo);
  assertTagName(tag);
  try {
    await git(['clone', '--quiet', '--no-checkout', '--', repo, dir]);
  } catch (err) {
    throw new UserError(`cannot clone the model repository ${redactCredentials(repo)}: ${(err as Error).message}`, 'pass --repo a local path or a git URL this host can reach');
  }
  let commit: string;
  try {
    commit = (await git(['rev-parse', '--verify', `refs/tags/${tag}^{commit}`], dir)).trim();
  } catch {
    const tags = (await git(['tag', '--list'], dir)).split('\n').filter(Boolean);
    throw new UserError(`tag ${tag} is not in ${redactCredentials(repo)}`, tags.length ? `known tags: ${tags.slice(-10).join(', ')}` : 'the repository has no tags: git tag v1.0.0 && git push --tags');
  }
  await git(['-c', 'advice.detachedHead=false', 'checkout', '--quiet', '--detach', commit], dir);
  return commit;
}

/** Writes `git archive` of a commit (the source snapshot) to a tar file. */
export async function archiveCommit(repoDir: string, commit: string, tarPath: string): Promise<void> {
  await git(['archive', '--format=tar', `--output=${tarPath}`, commit], repoDir);
}

/**
 * Runs `fn` on a clone of the repository (no work tree) with HEAD at the tag, then removes it.
 *
 * @returns what `fn` returns
 */
export async function withTaggedClone<T>(repo: string, tag: string, fn: (dir: string, commit: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'modelship-peek-'));
  try {
    const commit = await checkoutTag(repo, tag, dir);
    return await fn(dir, commit);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Reads one file at HEAD of a clone made by {@link withTaggedClone}. */
export async function readCommittedFile(dir: string, path: string, what: { repo: string; tag: string }): Promise<string> {
  return git(['show', `HEAD:${path}`], dir).catch(() => {
    throw new UserError(`${path} is not in ${redactCredentials(what.repo)} at ${what.tag}`, 'add a release manifest (see examples/digits/modelship.yaml) and tag again');
  });
}

/** The paths of every file committed at HEAD of a clone. */
export async function committedFiles(dir: string): Promise<Set<string>> {
  return new Set((await git(['ls-tree', '-r', '--name-only', '-z', 'HEAD'], dir)).split('\0').filter(Boolean));
}

/** Writes the committed files `paths` (at HEAD) under `dest`, as a tar extracted there. */
export async function extractCommitted(dir: string, paths: string[], dest: string): Promise<void> {
  const tar = join(dest, '.extract.tar');
  await git(['archive', '--format=tar', `--output=${tar}`, 'HEAD', '--', ...paths], dir);
  await execa('tar', ['-xf', tar, '-C', dest]);
  await rm(tar, { force: true });
}

/** Reads one file of a repository at a tag without keeping a checkout. */
export async function readFileAtTag(repo: string, tag: string, path: string): Promise<string> {
  return withTaggedClone(repo, tag, (dir) => readCommittedFile(dir, path, { repo, tag }));
}
