/**
 * Background traffic for the demo: the toolkit's traffic generator replaying a labelled dataset
 * against the serving runtime until stopped.
 *
 * @module
 */
import { execa } from 'execa';
import { modelProcessEnv } from '../../activities/process-env.ts';
import { defaultToolkitConfig } from '../../activities/toolkit.ts';

/** Options of the background traffic. */
export interface TrafficOptions {
  url: string;
  model: string;
  data: string;
  /** Requests per second. */
  rate: number;
  /** Where its output goes. */
  log: string;
}

/** Starts the generator; `stop()` ends it. */
export async function startTraffic({ url, model, data, rate, log }: TrafficOptions) {
  const toolkit = defaultToolkitConfig('');
  const out = { file: log, append: true } as const;
  const child = execa(
    toolkit.python,
    ['-m', 'modelship_toolkit.traffic', '--url', url, '--model', model, '--data', data, '--rate', String(rate), '--duration', '86400', '--labels'],
    { env: modelProcessEnv({ PYTHONPATH: toolkit.toolkitDir }), extendEnv: false, stdout: out, stderr: out, reject: false, cleanup: true },
  );
  return {
    async stop() {
      child.kill('SIGTERM');
      await child;
    },
  };
}
