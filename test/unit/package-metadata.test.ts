import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PackageMetadataCoreSchema, PackageMetadataSchema } from '../../lib/package-metadata.ts';

/** metadata.json of a real package (the demo's digits v1.1.0 int8). */
const real = () => JSON.parse(readFileSync(join(import.meta.dirname, '..', 'fixtures', 'report', 'metadata-v1.1.0-cpu-int8.json'), 'utf8')) as Record<string, unknown>;

describe('metadata.json, one contract', () => {
  it('describes what the package step writes, and every reader accepts it', () => {
    const written = PackageMetadataSchema.parse(real());
    expect(written.files[written.engine]?.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(PackageMetadataCoreSchema.safeParse(written).success).toBe(true);
  });

  it('refuses a metadata.json that leaves out or garbles what readers rely on', () => {
    const noFiles = { ...real(), files: undefined };
    expect(PackageMetadataCoreSchema.safeParse(noFiles).error?.issues[0]?.path).toEqual(['files']);
    const badDigest = { ...real(), files: { 'model.onnx': { sha256: 'abc', bytes: 3 } } };
    expect(PackageMetadataCoreSchema.safeParse(badDigest).error?.issues[0]?.path).toEqual(['files', 'model.onnx', 'sha256']);
    // The writer also promises the evidence: no parity, no package.
    expect(PackageMetadataSchema.safeParse({ ...real(), parity: undefined }).error?.issues[0]?.path).toEqual(['parity']);
  });
});
