/**
 * The toolkit contract: the JSON Schemas the toolkit validates against are generated from lib/ and
 * committed fresh, and a request built from the example manifest satisfies the contract.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderToolkitSchemas, TOOLKIT_SCHEMA_DIR } from '../../lib/json-schemas.ts';
import { parseManifest } from '../../lib/manifest.ts';
import { ParityRequestSchema, ProgressEventSchema, TOOLKIT_COMMANDS } from '../../lib/toolkit-contract.ts';

describe('toolkit contract', () => {
  it('has committed JSON Schemas identical to the ones lib/ generates (run `make schemas`)', () => {
    for (const [file, text] of Object.entries(renderToolkitSchemas())) {
      expect(readFileSync(join(TOOLKIT_SCHEMA_DIR, file), 'utf8'), file).toBe(text);
    }
  });

  it('has a request and a result schema per command', () => {
    expect(Object.keys(TOOLKIT_COMMANDS).sort()).toEqual(['bench', 'build', 'data', 'doctor', 'export', 'inspect', 'parity']);
  });

  it('accepts a parity request carrying the example manifest and refuses one without the engine', () => {
    const manifest = parseManifest(readFileSync(new URL('../../examples/digits/modelship.yaml', import.meta.url), 'utf8'));
    const request = { repoDir: '/r', manifest, checkpointPath: '/c.pt', enginePath: '/e.onnx', backend: 'onnxruntime-cpu', precision: 'int8' };
    expect(ParityRequestSchema.safeParse(request).success).toBe(true);
    const { enginePath: _drop, ...missing } = request;
    const refused = ParityRequestSchema.safeParse(missing);
    expect(refused.success).toBe(false);
    expect(refused.error?.issues[0]?.path).toEqual(['enginePath']);
  });

  it('reads progress lines', () => {
    expect(ProgressEventSchema.parse({ event: 'progress', step: 'parity', done: 10, total: 1000 }).done).toBe(10);
    expect(ProgressEventSchema.safeParse({ event: 'log', step: 'x' }).success).toBe(false);
  });
});
