/**
 * Starts a real Temporal cluster on PostgreSQL (frontend, history, matching and worker as separate
 * processes) and keeps it running until Ctrl-C. Workers and the CLI reach it with
 * TEMPORAL_ADDRESS=<the address it prints>.
 *
 *   node --import tsx scripts/temporal-cluster.ts [--home DIR] [--port 7433] [--postgres-port 7733]
 *
 * @module
 */
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { startTemporalCluster } from '../workers/temporal-cluster/index.ts';

const { values } = parseArgs({ options: { home: { type: 'string' }, port: { type: 'string' }, 'postgres-port': { type: 'string' } } });
const home = resolve(values.home ?? '.modelship/temporal-cluster');
const cluster = await startTemporalCluster({
  home,
  ...(values.port ? { basePort: Number(values.port) } : {}),
  ...(values['postgres-port'] ? { postgresPort: Number(values['postgres-port']) } : {}),
});
console.log(`Temporal ${cluster.address} (namespace ${cluster.namespace}) on PostgreSQL 127.0.0.1:${cluster.postgres.port}; logs in ${home}/logs. Ctrl-C stops it.`);
const stop = async () => {
  await cluster.stop();
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
