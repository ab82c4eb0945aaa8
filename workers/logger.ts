/**
 * The SDK logger of modelship's processes: the SDK's default at a chosen level, without the one
 * warning that is by design here (target-queue workers run activities only, no workflows).
 *
 * @module
 */
import { DefaultLogger, type LogLevel, type LogMetadata } from '@temporalio/worker';
import { loadConfig } from '../lib/config.ts';

/** A DefaultLogger that leaves out "No workflows registered" from activity-only workers. */
export class ModelshipLogger extends DefaultLogger {
  override log(level: LogLevel, message: string, meta?: LogMetadata): void {
    if (message.startsWith('No workflows registered')) return;
    super.log(level, message, meta);
  }
}

/** The logger at `$MODELSHIP_LOG_LEVEL` (default WARN). */
export function modelshipLogger(level: LogLevel = loadConfig().logLevel): ModelshipLogger {
  return new ModelshipLogger(level);
}
