/**
 * Which targets this build of modelship can carry through, checked before any work starts.
 *
 * @module
 */
import { ManifestError, type FieldIssue } from './errors.ts';
import type { Manifest } from './manifest.ts';

/** Backends whose build, parity and benchmark steps are implemented end to end. */
export const RUNNABLE_BACKENDS: readonly string[] = ['onnxruntime-cpu'];

/**
 * Refuses targets whose backend is validated but not runnable yet, naming each one.
 *
 * @throws {@link ManifestError}
 */
export function assertTargetsRunnable(manifest: Manifest, source = 'modelship.yaml'): void {
  const issues: FieldIssue[] = manifest.targets.flatMap((t, i) =>
    RUNNABLE_BACKENDS.includes(t.backend)
      ? []
      : [
          {
            field: `targets[${i}].backend`,
            message: `${t.backend} releases are not available yet: the TensorRT build step needs the GPU worker backend; use onnxruntime-cpu for now`,
          },
        ],
  );
  if (issues.length) throw new ManifestError(source, issues);
}
