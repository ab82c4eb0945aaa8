import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { buildTrtexecCommand } from '../../../lib/trtexec/command.ts';
import { engineCacheKey, engineCacheKeyMaterial, normalizeBuildArgs, timingCacheFileName } from '../../../lib/trtexec/engine-cache.ts';
import { parseTensorRTVersion } from '../../../lib/trtexec/version.ts';

const ONNX = 'a'.repeat(64);
const version = parseTensorRTVersion('10.16.1')!;
const inputs = [{ name: 'input', dims: [{ name: 'batch', min: 1, opt: 8, max: 16 }, 3, 224, 224] }];
const build = (dir: string, precision: 'fp16' | 'fp32' = 'fp16') =>
  buildTrtexecCommand({
    onnxPath: `${dir}/model.onnx`,
    enginePath: `${dir}/model.engine`,
    inputs,
    precision,
    version,
    workspaceMiB: 2048,
    timingCachePath: `${dir}/timing.cache`,
    layerInfoPath: `${dir}/layers.json`,
  }).args;

describe('engine cache key', () => {
  it('drops paths and reporting flags, keeps what shapes the engine, sorted', () => {
    expect(normalizeBuildArgs(build('/w1'))).toEqual([
      '--fp16',
      '--maxShapes=input:16x3x224x224',
      '--memPoolSize=workspace:2048M',
      '--minShapes=input:1x3x224x224',
      '--optShapes=input:8x3x224x224',
      '--profilingVerbosity=detailed',
    ]);
  });

  it('is the sha256 of the canonical material', () => {
    const input = { onnxSha256: ONNX, args: build('/w1'), version, arch: 'sm90' };
    const material = engineCacheKeyMaterial(input);
    expect(material).toBe(
      '{"v":1,"onnx":"' + ONNX + '","args":["--fp16","--maxShapes=input:16x3x224x224","--memPoolSize=workspace:2048M","--minShapes=input:1x3x224x224",' +
        '"--optShapes=input:8x3x224x224","--profilingVerbosity=detailed"],"tensorrt":"10.16.1","arch":"sm90","extra":{}}',
    );
    expect(engineCacheKey(input)).toBe(createHash('sha256').update(material).digest('hex'));
    expect(engineCacheKey(input)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('is the same for another work folder and another argument order', () => {
    const a = engineCacheKey({ onnxSha256: ONNX, args: build('/w1'), version, arch: 'sm90' });
    const b = engineCacheKey({ onnxSha256: ONNX, args: [...build('/tmp/other')].reverse(), version: '10.16.1', arch: 'sm90' });
    expect(b).toBe(a);
  });

  it('changes with the ONNX, the precision, the TensorRT version, the architecture and extra digests', () => {
    const base = { onnxSha256: ONNX, args: build('/w1'), version, arch: 'sm90' };
    const keys = new Set([
      engineCacheKey(base),
      engineCacheKey({ ...base, onnxSha256: 'b'.repeat(64) }),
      engineCacheKey({ ...base, args: build('/w1', 'fp32') }),
      engineCacheKey({ ...base, version: '10.16.0' }),
      engineCacheKey({ ...base, arch: 'sm89' }),
      engineCacheKey({ ...base, extraDigests: { calib: 'c'.repeat(64) } }),
    ]);
    expect(keys.size).toBe(6);
  });

  it('rejects malformed digests and architectures', () => {
    expect(() => engineCacheKey({ onnxSha256: 'xyz', args: [], version, arch: 'sm90' })).toThrow(/onnxSha256/);
    expect(() => engineCacheKey({ onnxSha256: ONNX, args: [], version, arch: 'hopper' })).toThrow(/arch/);
  });

  it('names timing caches per architecture and version', () => {
    expect(timingCacheFileName('sm90', version)).toBe('timing-sm90-trt10.16.1.cache');
  });
});
