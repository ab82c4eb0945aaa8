/**
 * A real Temporal cluster on PostgreSQL (issue 14): Debian's PostgreSQL, the schemas created with
 * `temporal-sql-tool`, and the server's frontend, history, matching and worker services each as
 * its own process from a configuration file — the shape of a production deployment, on loopback.
 * Each service can be killed and restarted, and PostgreSQL restarted, for the fault tests.
 *
 *   node --import tsx scripts/temporal-cluster.ts --home DIR   (scripts/temporal-server/install.sh builds the binaries)
 *
 * @module
 */
import { mkdirSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { execa, type ResultPromise } from 'execa';
import { SEARCH_ATTRIBUTES } from '../../lib/search-attributes.ts';
import { isServerUp } from '../dev-server.ts';
import { findTemporalBinary } from '../temporal-binary.ts';
import { preparePostgres, type Postgres } from './postgres.ts';
import { DATABASES, renderDynamicConfig, renderServerConfig, TEMPORAL_SERVICES, type ServicePorts, type TemporalService } from './server-config.ts';

const INSTALL = fileURLToPath(new URL('../../scripts/temporal-server/install.sh', import.meta.url));
const DB_USER = { user: 'temporal', password: 'temporal' };

/** Where the cluster listens: the frontend's port; the other services take the ports after it. */
export interface ClusterOptions {
  home: string;
  /** Frontend gRPC port (default 7433); history, matching and worker take the next three, membership +100, metrics +200. */
  basePort?: number;
  /**
   * PostgreSQL's port (default basePort + 300: 7733). Outside the kernel's ephemeral range
   * (32768–60999 on Linux), so no outgoing connection of a busy machine can hold it.
   */
  postgresPort?: number;
  namespace?: string;
}

/** A running cluster. */
export interface TemporalCluster {
  address: string;
  namespace: string;
  postgres: Postgres;
  /** The installed server's folder (binaries, schemas). */
  serverDir: string;
  /** How long install.sh took (0 when the binaries were cached). */
  installSeconds: number;
  /** Kills one service (SIGKILL, or SIGTERM for a graceful stop). */
  kill(service: TemporalService, signal?: 'SIGKILL' | 'SIGTERM'): Promise<void>;
  /** Starts a killed service again. */
  start(service: TemporalService): Promise<void>;
  stop(): Promise<void>;
}

/** Installs (cached after the first time) and returns the server folder and the seconds it took. */
export async function installTemporalServer(): Promise<{ dir: string; seconds: number }> {
  const t0 = Date.now();
  const { stdout } = await execa(INSTALL, [], { stderr: 'inherit' });
  return { dir: stdout.trim().split('\n').at(-1)!, seconds: (Date.now() - t0) / 1000 };
}

function servicePorts(base: number): Record<TemporalService, ServicePorts & { metrics: number }> {
  return Object.fromEntries(TEMPORAL_SERVICES.map((s, i) => [s, { grpc: base + i, membership: base + 100 + i, metrics: base + 200 + i }])) as Record<
    TemporalService,
    ServicePorts & { metrics: number }
  >;
}

/** Sets up PostgreSQL and the schemas (idempotent), then starts the four services and the namespace. */
export async function startTemporalCluster(opts: ClusterOptions): Promise<TemporalCluster> {
  const { home, basePort = 7433, namespace = 'default' } = opts;
  const postgresPort = opts.postgresPort ?? basePort + 300;
  // The server stores membership ports in a PostgreSQL smallint.
  if (!Number.isInteger(basePort) || basePort < 1024 || basePort + 300 > 32767) throw new Error(`basePort: expected 1024..32467 (Temporal keeps membership ports, basePort + 100.., in a smallint), got ${basePort}`);
  mkdirSync(join(home, 'logs'), { recursive: true });
  const install = await installTemporalServer();
  const postgres = await preparePostgres(join(home, 'postgres'), postgresPort);
  await postgres.start();
  const children = new Map<TemporalService, ResultPromise>();
  try {
    await postgres.sql(`DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${DB_USER.user}') THEN CREATE ROLE ${DB_USER.user} LOGIN CREATEDB PASSWORD '${DB_USER.password}'; END IF; END $$`);
    for (const [kind, db] of Object.entries(DATABASES) as [keyof typeof DATABASES, string][]) await setupSchema(install.dir, postgres, db, kind === 'default' ? 'temporal' : 'visibility', home);

    const ports = servicePorts(basePort);
    const dynamicConfigFile = join(home, 'dynamicconfig.yaml');
    await writeFile(dynamicConfigFile, renderDynamicConfig());
    const configFile = (service: TemporalService) => join(home, `server-${service}.yaml`);
    for (const service of TEMPORAL_SERVICES) {
      await writeFile(configFile(service), renderServerConfig({ postgres: { host: postgres.host, port: postgres.port, ...DB_USER }, ports, metricsPort: ports[service].metrics, dynamicConfigFile }));
    }
    const address = `127.0.0.1:${ports.frontend.grpc}`;
    const startService = async (service: TemporalService) => {
      const log = join(home, 'logs', `${service}.log`);
      const child = execa(join(install.dir, 'server'), ['--config-file', configFile(service), '--allow-no-auth', 'start', '--service', service], {
        stdout: { file: log, append: true },
        stderr: { file: log, append: true },
        reject: false,
        cleanup: true,
      });
      children.set(service, child);
    };
    // Each service writes the cluster's metadata on a fresh database if it is not there yet, and
    // the losers of that race exit ("Failed to apply cluster metadata"): one goes first.
    const [first, ...rest] = TEMPORAL_SERVICES;
    await startService(first);
    await waitForClusterMetadata(postgres, children, home);
    for (const service of rest) await startService(service);
    await waitForFrontend(address, children, home);
    await registerNamespace(address, namespace);

    return {
      address,
      namespace,
      postgres,
      serverDir: install.dir,
      installSeconds: install.seconds,
      async kill(service, signal = 'SIGKILL') {
        const child = children.get(service);
        if (!child) return;
        child.kill(signal);
        await child;
        children.delete(service);
      },
      async start(service) {
        if (!children.has(service)) await startService(service);
      },
      async stop() {
        for (const service of [...TEMPORAL_SERVICES].reverse()) {
          const child = children.get(service);
          child?.kill('SIGTERM');
          await child;
        }
        children.clear();
        await postgres.stop();
      },
    };
  } catch (err) {
    for (const child of children.values()) child.kill('SIGKILL');
    await postgres.stop();
    throw err;
  }
}

async function setupSchema(serverDir: string, postgres: Postgres, db: string, schema: 'temporal' | 'visibility', home: string): Promise<void> {
  const tool = (args: string[]) =>
    execa(join(serverDir, 'temporal-sql-tool'), ['--plugin', 'postgres12', '--ep', postgres.host, '-p', String(postgres.port), '-u', DB_USER.user, '--pw', DB_USER.password, '--db', db, ...args], {
      stdout: { file: join(home, 'logs', 'sql-tool.log'), append: true },
      stderr: { file: join(home, 'logs', 'sql-tool.log'), append: true },
    });
  const exists = (await postgres.sql(`SELECT 1 FROM pg_database WHERE datname = '${db}'`)) === '1';
  if (!exists) {
    await tool(['create-database']);
    await tool(['setup-schema', '-v', '0.0']);
  }
  // Applies the versions not yet applied (a no-op on a cluster already at this server's schema).
  await tool(['update-schema', '-d', join(serverDir, 'schema', schema, 'versioned')]);
}

/** Throws, with the end of its log, when a service has exited. */
async function throwIfExited(children: Map<TemporalService, ResultPromise>, home: string): Promise<void> {
  for (const [service, child] of children) {
    if (child.exitCode === null || child.exitCode === undefined) continue;
    const log = join(home, 'logs', `${service}.log`);
    const tail = (await readFile(log, 'utf8').catch(() => '')).trim().split('\n').slice(-3).map((l) => l.slice(0, 400));
    throw new Error(`temporal ${service} exited with ${child.exitCode}; see ${log}:\n${tail.join('\n')}`);
  }
}

async function waitForClusterMetadata(postgres: Postgres, children: Map<TemporalService, ResultPromise>, home: string): Promise<void> {
  const deadline = Date.now() + 120_000;
  while ((await postgres.sql('SELECT count(*) FROM cluster_metadata_info', DATABASES.default)) === '0') {
    await throwIfExited(children, home);
    if (Date.now() > deadline) throw new Error(`the Temporal server wrote no cluster metadata within 120 s; see ${join(home, 'logs')}`);
    await sleep(250);
  }
}

async function waitForFrontend(address: string, children: Map<TemporalService, ResultPromise>, home: string): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (!(await isServerUp(address))) {
    await throwIfExited(children, home);
    if (Date.now() > deadline) throw new Error(`the Temporal frontend did not answer on ${address} within 120 s; see ${join(home, 'logs')}`);
    await sleep(500);
  }
}

async function registerNamespace(address: string, namespace: string): Promise<void> {
  const temporal = findTemporalBinary();
  const cli = (args: string[]) => execa(temporal, [...args, '--address', address], { reject: false });
  const deadline = Date.now() + 120_000;
  // The namespace (once; "already exists" is fine), retried while the services finish joining.
  for (;;) {
    const r = await cli(['operator', 'namespace', 'create', '--namespace', namespace, '--retention', '72h']);
    if (r.exitCode === 0 || /already (exists|registered)/i.test(`${r.stderr}${r.stdout}`)) break;
    if (Date.now() > deadline) throw new Error(`cannot create namespace ${namespace}: ${r.stderr || r.stdout}`);
    await sleep(1000);
  }
  for (;;) {
    const r = await cli(['operator', 'namespace', 'describe', '--namespace', namespace]);
    if (r.exitCode === 0) break;
    if (Date.now() > deadline) throw new Error(`namespace ${namespace} is not ready: ${r.stderr}`);
    await sleep(1000);
  }
  for (const [name, type] of Object.entries(SEARCH_ATTRIBUTES)) {
    const r = await cli(['operator', 'search-attribute', 'create', '--namespace', namespace, '--name', name, '--type', type]);
    if (r.exitCode !== 0 && !/already exists/i.test(`${r.stderr}${r.stdout}`)) throw new Error(`cannot register search attribute ${name}: ${r.stderr || r.stdout}`);
  }
}
