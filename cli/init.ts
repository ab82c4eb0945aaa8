/**
 * `modelship init`: writes a first modelship.yaml from a model class and a sample input (the
 * toolkit's init_manifest runs the user's own model code here, on their machine, as training does).
 *
 * @module
 */
import type { Command } from 'commander';
import { execa } from 'execa';
import { defaultToolkitConfig } from '../activities/toolkit.ts';

/** Adds `modelship init`. */
export function registerInitCommand(program: Command): void {
  program
    .command('init')
    .description('write a first modelship.yaml from a model class and a sample input: names, dtypes, dims and dynamic axes guessed and commented')
    .requiredOption('--entrypoint <module:Class>', 'the model class, importable from --python-path')
    .requiredOption('--sample <file.npz>', 'one array per forward() input (by parameter name, else in order), sample axis first')
    .option('--repo <dir>', 'the model repository', '.')
    .option('--init <json>', "the class's keyword arguments as a JSON object", '{}')
    .option('--python-path <dir>', 'folder (in the repository) to import the model from', '.')
    .option('--checkpoint <path>', 'checkpoint to load before the forward passes, when it exists', 'artifacts/model_best.pt')
    .option('--name <name>', "the model's name (default: the repository folder's)")
    .option('--force', 'overwrite an existing modelship.yaml')
    .action(async (opts: { entrypoint: string; sample: string; repo: string; init: string; pythonPath: string; checkpoint: string; name?: string; force?: boolean }) => {
      const toolkit = defaultToolkitConfig('');
      const args = ['-m', 'modelship_toolkit.init_manifest', '--repo', opts.repo, '--entrypoint', opts.entrypoint, '--sample', opts.sample,
        '--init', opts.init, '--python-path', opts.pythonPath, '--checkpoint', opts.checkpoint, ...(opts.name ? ['--name', opts.name] : []), ...(opts.force ? ['--force'] : [])];
      const r = await execa(toolkit.python, args, { env: { PYTHONPATH: toolkit.toolkitDir }, stdio: 'inherit', reject: false });
      process.exitCode = r.exitCode ?? 1;
    });
}
