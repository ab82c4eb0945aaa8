/**
 * The local Temporal dev server: the real `temporal server start-dev`, SQLite under `.modelship/`,
 * the Web UI on 8233, modelship's search attributes registered.
 *
 * @module
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { Connection } from '@temporalio/client';
import { SEARCH_ATTRIBUTES } from '../lib/search-attributes.ts';
import { findTemporalBinary } from './temporal-binary.ts';

/** Where and how to run the dev server. */
export interface DevServerOptions {
  home: string;
  port?: number;
  uiPort?: number;
}

/** A running dev server this process started. */
export interface DevServer {
  address: string;
  uiUrl: string;
  stop(): Promise<void>;
}

/** Is a Temporal frontend answering at this address? */
export async function isServerUp(address: string): Promise<boolean> {
  try {
    const conn = await Connection.connect({ address, connectTimeout: 1000 });
    await conn.healthService.check({});
    await conn.close();
    return true;
  } catch {
    return false;
  }
}

/** Starts the dev server and waits until it answers (its log goes to `<home>/temporal.log`). */
export async function startDevServer({ home, port = 7233, uiPort = 8233 }: DevServerOptions): Promise<DevServer> {
  mkdirSync(home, { recursive: true });
  const address = `127.0.0.1:${port}`;
  const args = [
    'server', 'start-dev',
    '--db-filename', join(home, 'temporal.db'),
    '--ip', '127.0.0.1',
    '--port', String(port),
    '--ui-port', String(uiPort),
    '--log-level', 'warn',
    ...Object.entries(SEARCH_ATTRIBUTES).flatMap(([k, v]) => ['--search-attribute', `${k}=${v}`]),
  ];
  const child = execa(findTemporalBinary(), args, { stdout: { file: join(home, 'temporal.log'), append: true }, stderr: { file: join(home, 'temporal.log'), append: true }, reject: false, cleanup: true });
  const deadline = Date.now() + 60_000;
  while (!(await isServerUp(address))) {
    if (child.exitCode !== null && child.exitCode !== undefined) throw new Error(`temporal dev server exited with ${child.exitCode}; see ${join(home, 'temporal.log')}`);
    if (Date.now() > deadline) {
      child.kill();
      throw new Error(`temporal dev server did not answer on ${address} within 60s; see ${join(home, 'temporal.log')}`);
    }
    await sleep(250);
  }
  return {
    address,
    uiUrl: `http://localhost:${uiPort}`,
    async stop() {
      child.kill('SIGTERM');
      await child;
    },
  };
}
