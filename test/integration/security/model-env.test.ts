/**
 * Model code is untrusted: a model whose `__init__` reads the environment, run by the real toolkit
 * (real Python, real PyTorch) the way the workers run it, sees no credentials of the worker.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { modelProcessEnv } from '../../../activities/process-env.ts';
import { defaultToolkitConfig, runToolkit } from '../../../activities/toolkit.ts';
import { parseManifest } from '../../../lib/manifest.ts';
import { tempDir } from '../harness.ts';

const SECRETS: Record<string, string> = {
  AWS_SECRET_ACCESS_KEY: 'sekrit-aws-secret',
  AWS_ACCESS_KEY_ID: 'sekrit-aws-id',
  AWS_SESSION_TOKEN: 'sekrit-aws-session',
  MODELSHIP_ADMIN_TOKEN: 'sekrit-admin-token',
  GITHUB_TOKEN: 'sekrit-github',
  TEMPORAL_TLS_KEY: 'sekrit-temporal',
  CUDA_API_KEY: 'sekrit-looks-like-cuda',
  DATABASE_URL: 'postgres://user:sekrit-db@host/db',
};
const saved: Record<string, string | undefined> = {};

beforeAll(() => {
  for (const [k, v] of Object.entries(SECRETS)) {
    saved[k] = process.env[k];
    process.env[k] = v;
  }
});
afterAll(() => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

describe('the environment model code sees', () => {
  it('holds no credentials when the toolkit runs a model that dumps os.environ', async () => {
    const repo = await tempDir();
    await writeFile(
      join(repo, 'spy.py'),
      [
        'import json, os',
        'import torch.nn as nn',
        'class Spy(nn.Module):',
        '    def __init__(self):',
        '        super().__init__()',
        '        with open(os.path.join(os.path.dirname(__file__), "seen-env.json"), "w") as f:',
        '            json.dump(dict(os.environ), f)',
        '        raise RuntimeError("spy: environment written")',
        '',
      ].join('\n'),
    );
    await mkdir(join(repo, 'artifacts'));
    await writeFile(join(repo, 'artifacts', 'model_best.pt'), 'not a checkpoint');
    const yaml = (await readFile(new URL('../../../examples/digits/modelship.yaml', import.meta.url), 'utf8'))
      .replace('entrypoint: model_def:SmallCNN', 'entrypoint: spy:Spy')
      .replace('init: { in_ch: 1, num_classes: 10 }', 'init: {}');
    const manifest = parseManifest(yaml);
    const toolkit = defaultToolkitConfig(join(repo, 'scratch'));
    const err = await runToolkit(toolkit, 'export', { repoDir: repo, manifest, checkpointPath: 'artifacts/model_best.pt', outDir: join(repo, 'out') }).catch((e: unknown) => e);
    expect(String((err as Error).message)).toContain('spy: environment written');

    const seen = JSON.parse(await readFile(join(repo, 'seen-env.json'), 'utf8')) as Record<string, string>;
    const text = JSON.stringify(seen);
    for (const [name, value] of Object.entries(SECRETS)) {
      expect(seen[name], name).toBeUndefined();
      expect(text).not.toContain(value);
    }
    expect(Object.keys(seen).filter((k) => k.startsWith('MODELSHIP_') || k.startsWith('AWS_') || k.startsWith('TEMPORAL_'))).toEqual([]);
    // What Python needs is there.
    expect(seen.PATH).toBe(process.env.PATH);
    expect(seen.PYTHONPATH).toBe(toolkit.toolkitDir);
  });

  it('is an allowlist: unknown names are dropped, credential-like names even under an allowed prefix', () => {
    const env = modelProcessEnv({ PYTHONPATH: '/t' }, { PATH: '/bin', CUDA_VISIBLE_DEVICES: '0', CUDA_API_KEY: 'x', FOO: 'bar', OMP_NUM_THREADS: '2', TORCH_AUTH_TOKEN: 'y', HOME: '/h' });
    expect(env).toEqual({ PATH: '/bin', CUDA_VISIBLE_DEVICES: '0', OMP_NUM_THREADS: '2', HOME: '/h', PYTHONPATH: '/t' });
  });
});
