/**
 * Writes the JSON Schemas the Python toolkit validates against, generated from the zod schemas in
 * lib/. Run `npm run schemas` after changing lib/toolkit-contract.ts or lib/manifest.ts; a unit
 * test fails while the committed files are stale.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderToolkitSchemas, TOOLKIT_SCHEMA_DIR } from '../lib/json-schemas.ts';

mkdirSync(TOOLKIT_SCHEMA_DIR, { recursive: true });
for (const [file, text] of Object.entries(renderToolkitSchemas())) {
  writeFileSync(join(TOOLKIT_SCHEMA_DIR, file), text);
  console.log(`wrote ${join(TOOLKIT_SCHEMA_DIR, file)}`);
}
