/**
 * The local serving runtime of the dev stack: `python -m modelship_toolkit.serve` on loopback with
 * an admin token written under the stack's home (where the rollout activities read it).
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { modelProcessEnv } from '../activities/process-env.ts';
import { defaultToolkitConfig } from '../activities/toolkit.ts';

/** A runtime this process started. */
export interface ServingRuntime {
  url: string;
  /** `host:port` of its Open Inference Protocol gRPC endpoint, when it serves one. */
  grpcAddress?: string;
  tokenFile: string;
  stop(): Promise<void>;
}

/**
 * Starts the runtime (serving nothing until the rollout loads a package) and waits until it
 * answers. `grpcPort` also serves the Open Inference Protocol over gRPC there.
 */
export async function startServingRuntime({ home, port = 8100, grpcPort, model }: { home: string; port?: number; grpcPort?: number; model?: string }): Promise<ServingRuntime> {
  const dir = join(home, 'runtime');
  await mkdir(dir, { recursive: true });
  const tokenFile = join(dir, 'admin.token');
  const token = await readFile(tokenFile, 'utf8').catch(() => '');
  if (!token.trim()) await writeFile(tokenFile, `${randomBytes(24).toString('hex')}\n`, { mode: 0o600 });
  const toolkit = defaultToolkitConfig(join(home, 'tmp'));
  const log = { file: join(dir, 'serve.log'), append: true } as const;
  const child = execa(
    toolkit.python,
    [
      '-m',
      'modelship_toolkit.serve',
      '--port',
      String(port),
      ...(grpcPort !== undefined ? ['--grpc-port', String(grpcPort)] : []),
      '--admin-token-file',
      tokenFile,
      ...(model ? ['--model-name', model] : []),
    ],
    // The PyTorch fallback runs the package's model code here: no credentials in its environment.
    { env: modelProcessEnv({ PYTHONPATH: toolkit.toolkitDir }), extendEnv: false, stdout: log, stderr: log, reject: false, cleanup: true },
  );
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null && child.exitCode !== undefined) throw new Error(`serving runtime exited with ${child.exitCode}; see ${log.file}`);
    const up = await fetch(`${url}/v2/health/live`).then((r) => r.ok, () => false);
    if (up) break;
    if (Date.now() > deadline) {
      child.kill();
      throw new Error(`serving runtime did not answer on ${url} within 60s; see ${log.file}`);
    }
    await sleep(200);
  }
  return {
    url,
    ...(grpcPort !== undefined ? { grpcAddress: `127.0.0.1:${grpcPort}` } : {}),
    tokenFile,
    async stop() {
      child.kill('SIGTERM');
      await child;
    },
  };
}
