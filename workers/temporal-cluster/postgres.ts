/**
 * A PostgreSQL cluster of its own for the Temporal server (Debian's server binaries, a data folder
 * under the stack's home, a port on loopback only). Run as the `postgres` user when this process is
 * root (PostgreSQL refuses root), as this user otherwise. Restartable, for the fault tests.
 *
 * @module
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { chown } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { execa } from 'execa';

/** A PostgreSQL cluster this process set up. */
export interface Postgres {
  host: string;
  port: number;
  dataDir: string;
  /** Starts the server (waits until it accepts connections). */
  start(): Promise<void>;
  /** Stops it (fast shutdown: open sessions are ended). */
  stop(): Promise<void>;
  /** `pg_ctl restart -m fast`: every client connection drops. */
  restart(): Promise<void>;
  /** Runs SQL as the superuser, in `database` (default `postgres`). */
  sql(statement: string, database?: string): Promise<string>;
}

/** The newest Debian PostgreSQL server's bin folder. */
export function postgresBinDir(): string {
  const root = '/usr/lib/postgresql';
  const majors = existsSync(root) ? readdirSync(root).filter((d) => existsSync(join(root, d, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a)) : [];
  if (majors.length === 0) throw new Error('PostgreSQL is not installed (no /usr/lib/postgresql/<major>/bin/initdb): run scripts/temporal-server/install.sh');
  return join(root, majors[0]!, 'bin');
}

function asOwner(bin: string, args: string[]) {
  return process.getuid?.() === 0 ? { file: 'runuser', args: ['-u', 'postgres', '--', bin, ...args] } : { file: bin, args };
}

/**
 * Initialises (once) and describes a cluster in `dataDir` listening on 127.0.0.1:`port`, trust
 * authentication on loopback (a test stack; the deployment files use passwords).
 */
export async function preparePostgres(dataDir: string, port: number): Promise<Postgres> {
  const bin = postgresBinDir();
  const run = async (name: string, args: string[]) => {
    const c = asOwner(join(bin, name), args);
    return (await execa(c.file, c.args, { cwd: '/' })).stdout;
  };
  const socketDir = join(dataDir, 'socket');
  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    mkdirSync(dataDir, { recursive: true });
    if (process.getuid?.() === 0) {
      letOthersTraverse(dirname(dataDir));
      await chown(dataDir, uid('postgres'), gid('postgres'));
    }
    await run('initdb', ['-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-instructions']);
    mkdirSync(socketDir, { recursive: true });
    if (process.getuid?.() === 0) await chown(socketDir, uid('postgres'), gid('postgres'));
  }
  const options = `-p ${port} -k ${socketDir} -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off`;
  const log = join(dataDir, 'postgres.log');
  const pgCtl = (action: string, extra: string[] = []) => run('pg_ctl', ['-D', dataDir, '-l', log, '-o', options, '-w', '-t', '60', ...extra, action]);
  return {
    host: '127.0.0.1',
    port,
    dataDir,
    async start() {
      await pgCtl('start');
    },
    async stop() {
      await pgCtl('stop', ['-m', 'fast']).catch(() => {});
    },
    async restart() {
      await pgCtl('restart', ['-m', 'fast']);
    },
    async sql(statement: string, database = 'postgres') {
      return (await execa('psql', ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-d', database, '-v', 'ON_ERROR_STOP=1', '-tAc', statement])).stdout;
    },
  };
}

/** Adds search (x) permission for others to `dir` and its ancestors (a 0700 temporary folder, say), so the postgres user can reach its data folder. Nothing is made readable. */
function letOthersTraverse(dir: string): void {
  for (let d = dir; ; d = dirname(d)) {
    const mode = statSync(d).mode;
    if (!(mode & 0o001)) chmodSync(d, (mode & 0o7777) | 0o001);
    if (dirname(d) === d) return;
  }
}

function idOf(flag: '-u' | '-g', name: string): number {
  return Number(execFileSync('id', [flag, name], { encoding: 'utf8' }).trim());
}
const uid = (name: string) => idOf('-u', name);
const gid = (name: string) => idOf('-g', name);
