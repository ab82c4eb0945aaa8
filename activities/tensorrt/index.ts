/**
 * The TensorRT backend of a GPU worker: host detection and queue names, the GPU slot pool, the
 * engine steps (build / parity / bench), and the package compatibility check.
 *
 * @module
 */
export * from './host.ts';
export * from './gpu-slots.ts';
export * from './compat.ts';
export { createTensorRTSteps, HARDWARE_COMPATIBILITY } from './steps.ts';
export { workspaceForAttempt, trtexecFailure, MIN_WORKSPACE_MIB } from './failure.ts';
export { runTrtexec, trtexecProgress } from './trtexec-process.ts';
