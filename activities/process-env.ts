/**
 * The environment of processes that run model code or read model files (the toolkit, the serving
 * runtime, the traffic generator, training in the demo, trtexec): an allowlist of what Python,
 * CUDA, TensorRT and the toolkit need, and never credentials. A model's `__init__` runs inside
 * these processes, so whatever is here, the model can read; S3 access, the admin token and the
 * Temporal connection stay in the TypeScript workers.
 *
 * @module
 */

/** Variables passed by name. */
export const MODEL_ENV_NAMES: readonly string[] = [
  'PATH',
  'HOME',
  'USER',
  'LANG',
  'LANGUAGE',
  'LC_ALL',
  'LC_CTYPE',
  'TZ',
  'TMPDIR',
  'LD_LIBRARY_PATH',
  'PYTHONHASHSEED',
  'PYTHONDONTWRITEBYTECODE',
  // The serving runtime's PyTorch fallback device (cpu, cuda, cuda:1).
  'MODELSHIP_TORCH_DEVICE',
];

/** Variables passed by prefix: CUDA, NVIDIA, thread pools, PyTorch, TensorRT. */
export const MODEL_ENV_PREFIXES: readonly string[] = ['CUDA_', 'NVIDIA_', 'CUBLAS_', 'CUDNN_', 'OMP_', 'MKL_', 'OPENBLAS_', 'TORCH_', 'TRT_', 'TENSORRT_'];

/** Names that look like credentials are dropped even when a prefix matches. */
export const SECRET_NAME = /TOKEN|SECRET|PASSW|PASSPHRASE|CREDENTIAL|PRIVATE|API_?KEY|ACCESS_?KEY|SESSION|AUTH|COOKIE/i;

/**
 * The allowlisted subset of `from` plus `extra` (set by modelship itself, e.g. `PYTHONPATH`,
 * `CUDA_VISIBLE_DEVICES`). Use with execa's `extendEnv: false`.
 */
export function modelProcessEnv(extra: Readonly<Record<string, string>> = {}, from: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(from)) {
    if (value === undefined || SECRET_NAME.test(name)) continue;
    if (MODEL_ENV_NAMES.includes(name) || MODEL_ENV_PREFIXES.some((p) => name.startsWith(p))) env[name] = value;
  }
  return { ...env, ...extra };
}
