/**
 * A real S3-protocol server for the store tests: Versity S3 Gateway (versitygw) on its posix
 * backend, on an ephemeral loopback port with a temporary data folder (objects are plain files
 * under `<dataDir>/<bucket>/<key>`, so tests can corrupt them out of band). Built and cached by
 * scripts/s3-server/install.sh; `MODELSHIP_VERSITYGW` may name another binary.
 *
 * @module
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';

const REPO_ROOT = fileURLToPath(new URL('../../..', import.meta.url));

/** A running (or stopped, restartable) test server. */
export interface S3TestServer {
  /** `http://127.0.0.1:<port>`. */
  readonly endpoint: string;
  readonly port: number;
  /** The posix backend's root: buckets are its folders. */
  readonly dataDir: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** The bucket created at start. */
  readonly bucket: string;
  /** Environment that points the S3 store at this server (credentials through the SDK's env provider). */
  env(): Record<string, string>;
  /** A raw SDK client with the server's root credentials (for out-of-band writes). */
  rawClient(): S3Client;
  /** Stops the process, keeping the data and the port number. */
  stop(): Promise<void>;
  /** Starts it again on the same port and data. */
  start(): Promise<void>;
  /** Stops it and deletes the data. */
  dispose(): Promise<void>;
}

/** The versitygw binary: `MODELSHIP_VERSITYGW`, or what install.sh builds (idempotent, fast when cached). */
export async function versitygwBinary(): Promise<string> {
  if (process.env.MODELSHIP_VERSITYGW) return process.env.MODELSHIP_VERSITYGW;
  const { stdout } = await promisify(execFile)('bash', [join(REPO_ROOT, 'scripts/s3-server/install.sh')], { maxBuffer: 16 * 1024 * 1024 });
  const path = stdout.trim().split('\n').pop();
  if (!path) throw new Error('scripts/s3-server/install.sh printed no binary path');
  return path;
}

async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? ok(address.port) : fail(new Error('no port'))));
    });
  });
}

async function canConnect(port: number): Promise<boolean> {
  return new Promise((ok) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      ok(true);
    });
    socket.once('error', () => ok(false));
  });
}

/** Starts versitygw on 127.0.0.1:<free port> with a fresh data folder and creates `bucket`. */
export async function startS3Server(options: { bucket?: string } = {}): Promise<S3TestServer> {
  const binary = await versitygwBinary();
  const port = await freePort();
  const dataDir = await mkdtemp(join(tmpdir(), 'modelship-s3-'));
  const endpoint = `http://127.0.0.1:${port}`;
  const accessKeyId = 'modelship-test';
  const secretAccessKey = 'modelship-test-secret';
  const bucket = options.bucket ?? 'modelship-test';
  let child: ChildProcess | undefined;
  let output = '';

  const start = async (): Promise<void> => {
    output = '';
    const proc = spawn(binary, ['--port', `127.0.0.1:${port}`, '--access', accessKeyId, '--secret', secretAccessKey, '--quiet', 'posix', dataDir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = proc;
    proc.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    proc.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    const deadline = Date.now() + 20_000;
    while (!(await canConnect(port))) {
      if (proc.exitCode !== null) throw new Error(`versitygw exited with ${proc.exitCode}:\n${output}`);
      if (Date.now() > deadline) throw new Error(`versitygw did not listen on ${endpoint} within 20 s:\n${output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  const stop = async (): Promise<void> => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((r) => proc.once('exit', () => r()));
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  };

  const rawClient = (): S3Client =>
    new S3Client({ endpoint, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId, secretAccessKey }, maxAttempts: 1 });

  await start();
  const client = rawClient();
  try {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  } finally {
    client.destroy();
  }

  return {
    endpoint,
    port,
    dataDir,
    accessKeyId,
    secretAccessKey,
    bucket,
    env: () => ({
      AWS_ACCESS_KEY_ID: accessKeyId,
      AWS_SECRET_ACCESS_KEY: secretAccessKey,
      MODELSHIP_S3_ENDPOINT: endpoint,
    }),
    rawClient,
    stop,
    start,
    dispose: async () => {
      await stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Isolates the AWS SDK from this host's own AWS setup: no profiles or credentials files, no
 * instance metadata (it would reach past loopback), no region, no Node-version warning.
 */
export function isolateAwsEnv(): void {
  for (const name of Object.keys(process.env)) {
    if (name.startsWith('AWS_') || name.startsWith('MODELSHIP_S3_') || name === 'MODELSHIP_ARTIFACTS') delete process.env[name];
  }
  process.env.AWS_CONFIG_FILE = join(tmpdir(), 'modelship-no-aws-config');
  process.env.AWS_SHARED_CREDENTIALS_FILE = join(tmpdir(), 'modelship-no-aws-credentials');
  process.env.AWS_EC2_METADATA_DISABLED = 'true';
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
}
