/**
 * TensorRT's trtexec, from the orchestration side: version rules, command lines, log and JSON
 * parsers, failure classes and the engine cache key.
 *
 * @module
 */
export * from './version.ts';
export * from './shapes.ts';
export * from './command.ts';
export * from './log-schema.ts';
export * from './parse-log.ts';
export * from './parse-json.ts';
export * from './classify.ts';
export * from './engine-cache.ts';
