/**
 * Makes the demo's model repository as a user has one: the example's code, trained, committed and
 * tagged. Kept between runs, so a tag is never moved to another commit.
 *
 * @module
 */
import { cp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { execa } from 'execa';
import { modelProcessEnv } from '../../activities/process-env.ts';
import { defaultToolkitConfig, PROJECT_ROOT } from '../../activities/toolkit.ts';

const GIT_ID = ['-c', 'user.name=modelship demo', '-c', 'user.email=demo@modelship.invalid'];

async function git(dir: string, ...args: string[]): Promise<string> {
  return (await execa('git', [...GIT_ID, ...args], { cwd: dir })).stdout;
}

/** Does the repository have this tag? */
async function hasTag(dir: string, tag: string): Promise<boolean> {
  if (!existsSync(join(dir, '.git'))) return false;
  return (await git(dir, 'tag', '--list', tag)).trim() === tag;
}

/** Options of a training run in the demo repository. */
export interface TrainAndTagOptions {
  dir: string;
  tag: string;
  /** The folder under examples/ the repository starts from; default `digits`. */
  example?: string;
  /** Extra flags for train.py (e.g. `--shuffle-labels`). */
  trainArgs?: string[];
  log?: (line: string) => void;
  /** Called with the repository folder before training (tests edit the manifest here). */
  prepare?: (dir: string) => Promise<void>;
}

/**
 * Creates (first time, from an example) or updates a model repository, trains with train.py,
 * commits the checkpoint, metrics and anything else training wrote, and tags the commit. A tag that
 * exists is left as it is.
 */
export async function trainAndTag({ dir, tag, example = 'digits', trainArgs = [], log = console.log, prepare }: TrainAndTagOptions): Promise<void> {
  if (await hasTag(dir, tag)) {
    log(`demo repository ${dir} already has ${tag}`);
    return;
  }
  if (!existsSync(join(dir, '.git'))) {
    await rm(dir, { recursive: true, force: true });
    const from = join(PROJECT_ROOT, 'examples', example);
    // Only digits keeps its data in git; the other examples' train.py writes theirs.
    const skip = example === 'digits' ? /^(artifacts|__pycache__)([\\/]|$)|[\\/]__pycache__([\\/]|$)/ : /^(artifacts|data|__pycache__)([\\/]|$)|[\\/]__pycache__([\\/]|$)/;
    await cp(from, dir, {
      recursive: true,
      filter: (src) => !skip.test(relative(from, src)),
    });
    await git(dir, 'init', '--quiet', '--initial-branch=main');
  }
  await prepare?.(dir);
  log(`training the ${example} model (${['train.py', ...trainArgs].join(' ')}) ...`);
  const python = defaultToolkitConfig('').python;
  // train.py is the model repository's code: it gets no credentials.
  const train = await execa(python, ['train.py', '--out', 'artifacts', ...trainArgs], { cwd: dir, all: true, env: modelProcessEnv(), extendEnv: false });
  for (const line of train.all.split('\n').slice(-3)) log(`  ${line}`);
  await git(dir, 'add', '-A');
  await git(dir, 'commit', '--quiet', '--allow-empty', '-m', `train ${tag}`);
  await git(dir, 'tag', tag);
  log(`tagged ${tag} at ${(await git(dir, 'rev-parse', '--short', 'HEAD')).trim()}`);
}
