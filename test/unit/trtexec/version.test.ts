import { describe, expect, it } from 'vitest';
import {
  compareTensorRTVersions,
  forbiddenTrtexecFlags,
  formatTensorRTVersion,
  parseBannerVersion,
  parseTensorRTVersion,
  trtexecCapabilities,
  type TensorRTVersion,
} from '../../../lib/trtexec/version.ts';

const v = (s: string): TensorRTVersion => parseTensorRTVersion(s)!;

describe('parseTensorRTVersion', () => {
  it.each([
    ['8.6.1', { major: 8, minor: 6, patch: 1 }],
    ['10.16.0.72', { major: 10, minor: 16, patch: 0, build: 72 }],
    ['v10.14', { major: 10, minor: 14, patch: 0 }],
    ['11.0', { major: 11, minor: 0, patch: 0 }],
  ])('%s', (text, want) => expect(parseTensorRTVersion(text)).toEqual(want));

  it('rejects non-versions', () => {
    expect(parseTensorRTVersion('ten')).toBeNull();
    expect(parseTensorRTVersion('10')).toBeNull();
  });

  it('formats back', () => expect(formatTensorRTVersion(v('10.16.0.72'))).toBe('10.16.0.72'));
});

describe('parseBannerVersion', () => {
  it.each([
    ['[TensorRT v100800]', '10.8.0'],
    ['v101302', '10.13.2'],
    ['v101401', '10.14.1'],
    ['v101601', '10.16.1'],
    ['v8601', '8.6.1'],
    ['v8600', '8.6.0'],
    ['v8510', '8.5.10'],
    ['v8401', '8.4.1'],
    ['&&&& RUNNING TensorRT.trtexec [TensorRT v8410] # trtexec', '8.4.10'],
  ])('%s → %s', (banner, want) => expect(formatTensorRTVersion(parseBannerVersion(banner)!)).toBe(want));

  it('returns null without a code', () => expect(parseBannerVersion('TensorRT')).toBeNull());
});

describe('compareTensorRTVersions', () => {
  it('orders by major, minor, patch and ignores the build', () => {
    const sorted = ['10.14.1', '8.6.1', '11.0.0', '10.2.0', '10.16.0.72', '8.6.0'].map(v).sort(compareTensorRTVersions).map(formatTensorRTVersion);
    expect(sorted).toEqual(['8.6.0', '8.6.1', '10.2.0', '10.14.1', '10.16.0.72', '11.0.0']);
    expect(compareTensorRTVersions(v('10.16.0.72'), v('10.16.0'))).toBe(0);
  });
});

describe('trtexecCapabilities', () => {
  it.each([
    // version, explicitBatch/workspace/buildOnly, skipInference, bf16, stronglyTyped flag, prefers strong, always strong, fp16/int8, memPool bare unit
    ['8.5.10', true, false, false, false, false, false, true, 'MiB'],
    ['8.6.1', true, true, false, false, false, false, true, 'MiB'],
    ['9.1.0', true, true, true, true, false, false, true, 'MiB'],
    ['10.0.1', false, true, true, true, false, false, true, 'bytes'],
    ['10.8.0', false, true, true, true, false, false, true, 'MiB'],
    ['10.13.2', false, true, true, true, false, false, true, 'MiB'],
    ['10.14.1', false, true, true, true, true, false, true, 'MiB'],
    ['11.0.0', false, true, false, true, true, true, false, 'MiB'],
  ] as const)('%s', (ver, legacy, skip, bf16, strongFlag, prefers, always, weak, bare) => {
    const c = trtexecCapabilities(v(ver));
    expect([c.explicitBatchFlag, c.workspaceFlag, c.buildOnlyFlag]).toEqual([legacy, legacy, legacy]);
    expect(c.skipInferenceFlag).toBe(skip);
    expect(c.bf16Flag).toBe(bf16);
    expect(c.stronglyTypedFlag).toBe(strongFlag);
    expect(c.prefersStronglyTyped).toBe(prefers);
    expect(c.alwaysStronglyTyped).toBe(always);
    expect(c.fp16Int8Flags).toBe(weak);
    expect(c.memPoolBareUnit).toBe(bare);
  });

  it('forbids the TRT-8-era flags on 10 and the precision flags on 11', () => {
    expect(forbiddenTrtexecFlags(v('8.6.1'))).toEqual(['--bf16', '--stronglyTyped']);
    expect(forbiddenTrtexecFlags(v('10.0.0'))).toEqual(['--explicitBatch', '--workspace', '--buildOnly']);
    expect(forbiddenTrtexecFlags(v('11.0.0'))).toEqual(['--explicitBatch', '--workspace', '--buildOnly', '--fp16', '--int8', '--best', '--bf16', '--calib']);
  });
});
