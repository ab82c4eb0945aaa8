/**
 * JSON Schema rendering of the manifest and the toolkit contract, shared by the generator script
 * and the test that keeps the committed schemas fresh.
 *
 * @module
 */
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { ManifestSchema } from './manifest.ts';
import { PackageMetadataCoreSchema } from './package-metadata.ts';
import { RuntimeFitSchema, RuntimeLoadedSchema, RuntimePromotedSchema, RuntimeRolledBackSchema, RuntimeStateSchema, RuntimeWeightsSchema } from './runtime-admin.ts';
import { TOOLKIT_COMMANDS, ToolkitExit } from './toolkit-contract.ts';

/** Where the toolkit reads its schemas from. */
export const TOOLKIT_SCHEMA_DIR = fileURLToPath(new URL('../toolkit/modelship_toolkit/schemas/', import.meta.url));

function render(schema: z.ZodType, io: 'input' | 'output'): string {
  return `${JSON.stringify(z.toJSONSchema(schema, { io, unrepresentable: 'any' }), null, 2)}\n`;
}

/** File name → JSON text, for every schema the toolkit uses. */
export function renderToolkitSchemas(): Record<string, string> {
  const files: Record<string, string> = {
    'manifest.json': render(ManifestSchema, 'input'),
    // What the serving runtime checks a package's metadata.json against before loading it.
    'package-metadata.json': render(PackageMetadataCoreSchema, 'output'),
    // The serving runtime's admin replies (its tests check them against these).
    'admin.state.json': render(RuntimeStateSchema, 'output'),
    'admin.load.json': render(RuntimeLoadedSchema, 'output'),
    'admin.weights.json': render(RuntimeWeightsSchema, 'output'),
    'admin.promote.json': render(RuntimePromotedSchema, 'output'),
    'admin.rollback.json': render(RuntimeRolledBackSchema, 'output'),
    'admin.fits.json': render(RuntimeFitSchema, 'output'),
    // The command list and exit codes, defined here once and read by the toolkit's CLI.
    'contract.json': `${JSON.stringify({ commands: Object.keys(TOOLKIT_COMMANDS), exitCodes: ToolkitExit }, null, 2)}\n`,
  };
  for (const [name, { request, result }] of Object.entries(TOOLKIT_COMMANDS)) {
    files[`${name}.request.json`] = render(request, 'output');
    files[`${name}.result.json`] = render(result, 'output');
  }
  return files;
}
