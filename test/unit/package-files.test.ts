import { describe, expect, it } from 'vitest';
import { UserError } from '../../lib/errors.ts';
import { packageFiles } from '../../lib/package-files.ts';

const digest = { sha256: 'a'.repeat(64), bytes: 10 };

describe("a package's file listing, before staging writes any file", () => {
  it('accepts the flat files modelship writes', () => {
    const files = { 'engine.fp16.plan': digest, 'model.onnx': digest, 'model_best.pt': digest, 'source.tar': digest, 'build.log': digest };
    expect(packageFiles({ files })).toEqual(files);
  });

  it.each([
    ['../../etc/cron.d/x'],
    ['a/b'],
    ['..'],
    ['.'],
    ['.modelship-staged'],
    [''],
    ['x'.repeat(200)],
    ['name\nwith-newline'],
    ['C:\\evil'],
  ])('refuses the name %j, naming the field', (name) => {
    expect(() => packageFiles({ files: { [name]: digest } })).toThrow(UserError);
    expect(() => packageFiles({ files: { [name]: digest } })).toThrow(/metadata\.json files/);
  });

  it('refuses digests that are not digests, and listings that are not listings', () => {
    for (const bad of [{ sha256: 'zz', bytes: 1 }, { sha256: 'a'.repeat(64), bytes: -1 }, { sha256: 'a'.repeat(64) }, null, 'x']) {
      expect(() => packageFiles({ files: { 'model.onnx': bad } })).toThrow(/files\.model\.onnx/);
    }
    for (const metadata of [null, {}, { files: [] }, { files: {} }, { files: 'x' }, 42]) expect(() => packageFiles(metadata)).toThrow(UserError);
  });
});
