/**
 * Starts a local Prometheus scraping serving runtimes, until Ctrl-C (the dev stack's).
 *
 * Usage: node --import tsx scripts/prometheus/start.ts --target 127.0.0.1:8100 [--target ...]
 *          [--port 9090] [--data-dir .modelship/prometheus] [--scrape-interval 5s]
 *
 * @module
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startPrometheus } from '../../workers/prometheus.ts';

const { values } = parseArgs({
  options: {
    target: { type: 'string', multiple: true, default: ['127.0.0.1:8100'] },
    port: { type: 'string', default: '9090' },
    'data-dir': { type: 'string', default: '.modelship/prometheus' },
    'scrape-interval': { type: 'string', default: '5s' },
  },
});
const prom = await startPrometheus({
  targets: values.target,
  port: Number(values.port),
  dataDir: resolve(values['data-dir']),
  scrapeInterval: values['scrape-interval'],
});
console.log(JSON.stringify({ event: 'listening', url: prom.url, config: prom.configFile }));
const stop = () => void prom.stop().then(() => process.exit(0));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
