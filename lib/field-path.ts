/**
 * Formats a validation path the way users read it in their YAML: `inputs[0].dims[2].max`.
 *
 * @param path - keys and indices from the root
 */
export function formatFieldPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(root)';
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out;
}
