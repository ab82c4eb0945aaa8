import { describe, expect, it } from 'vitest';
import { UserError } from '../../../lib/errors.ts';
import type { InputSpec, Precision } from '../../../lib/manifest.ts';
import { buildTrtexecBenchCommand, buildTrtexecCommand } from '../../../lib/trtexec/command.ts';
import { profileShapeArgs } from '../../../lib/trtexec/shapes.ts';
import { forbiddenTrtexecFlags, parseTensorRTVersion, type TensorRTVersion } from '../../../lib/trtexec/version.ts';

type Inputs = Array<Pick<InputSpec, 'name' | 'dims'>>;

const DYNAMIC: Inputs = [
  {
    name: 'input',
    dims: [{ name: 'batch', min: 1, opt: 8, max: 16 }, 3, { name: 'height', min: 160, opt: 224, max: 320 }, { name: 'width', min: 160, opt: 224, max: 320 }],
  },
];
const STATIC: Inputs = [{ name: 'input', dims: [1, 3, 224, 224] }];
const SHAPES = ['--minShapes=input:1x3x160x160', '--optShapes=input:8x3x224x224', '--maxShapes=input:16x3x320x320'];

const v = (s: string): TensorRTVersion => parseTensorRTVersion(s)!;

const base = (version: string, precision: Precision, inputs: Inputs) => ({
  onnxPath: 'work/model.onnx',
  enginePath: 'work/model.engine',
  inputs,
  precision,
  version: v(version),
  workspaceMiB: 4096,
  ...(precision === 'int8' ? { onnxIsQdq: true } : {}),
});

/** Expected precision flags for an FP32 ONNX (int8: a Q/DQ ONNX); `'throws'` when the version cannot. */
const PRECISION_TABLE: Record<string, Record<Precision, string[] | 'throws'>> = {
  '8.6.1': { fp32: ['--noTF32'], fp16: ['--fp16'], bf16: 'throws', int8: ['--int8'] },
  '10.0.1': { fp32: ['--noTF32'], fp16: ['--fp16'], bf16: ['--bf16'], int8: ['--int8'] },
  '10.14.1': { fp32: ['--stronglyTyped', '--noTF32'], fp16: ['--fp16'], bf16: ['--bf16'], int8: ['--stronglyTyped'] },
  '11.0.0': { fp32: ['--noTF32'], fp16: 'throws', bf16: 'throws', int8: [] },
};
const WORKSPACE: Record<string, string> = {
  '8.6.1': '--memPoolSize=workspace:4096',
  '10.0.1': '--memPoolSize=workspace:4096M',
  '10.14.1': '--memPoolSize=workspace:4096M',
  '11.0.0': '--memPoolSize=workspace:4096M',
};

const hasFlag = (args: readonly string[], flag: string): boolean => args.some((a) => a === flag || a.startsWith(`${flag}=`));

describe('buildTrtexecCommand: versions × manifests × precisions', () => {
  for (const [version, byPrecision] of Object.entries(PRECISION_TABLE)) {
    for (const [shapeKind, inputs] of [
      ['dynamic', DYNAMIC],
      ['static', STATIC],
    ] as const) {
      for (const [precision, flags] of Object.entries(byPrecision) as Array<[Precision, string[] | 'throws']>) {
        it(`TensorRT ${version}, ${shapeKind}, ${precision}`, () => {
          const input = base(version, precision, inputs);
          if (flags === 'throws') {
            expect(() => buildTrtexecCommand(input)).toThrow(UserError);
            return;
          }
          const cmd = buildTrtexecCommand(input);
          expect(cmd.executable).toBe('trtexec');
          expect(cmd.args).toEqual([
            '--onnx=work/model.onnx',
            '--saveEngine=work/model.engine',
            ...(shapeKind === 'dynamic' ? SHAPES : []),
            ...flags,
            WORKSPACE[version],
            '--skipInference',
          ]);
          for (const f of forbiddenTrtexecFlags(v(version))) expect(hasFlag(cmd.args, f), `${f} on ${version}`).toBe(false);
          // Never the TRT-8-era flags, on any version we build with.
          for (const f of ['--explicitBatch', '--workspace', '--buildOnly', '--calib', '--best']) expect(hasFlag(cmd.args, f)).toBe(false);
          // Never a MiB suffix: on 10.x its trailing B means bytes.
          expect(cmd.args.some((a) => /workspace:\d+MiB/.test(a))).toBe(false);
        });
      }
    }
  }
});

describe('buildTrtexecCommand: options', () => {
  it('builds strongly typed from an ONNX that already carries FP16 (AutoCast) where the version can', () => {
    const typed = (ver: string, p: Precision) => buildTrtexecCommand({ ...base(ver, p, STATIC), onnxHasPrecision: true }).args;
    expect(typed('8.6.1', 'fp16')).toContain('--fp16');
    expect(typed('10.0.1', 'fp16')).toContain('--stronglyTyped');
    expect(typed('10.0.1', 'fp16')).not.toContain('--fp16');
    expect(typed('10.14.1', 'bf16')).toContain('--stronglyTyped');
    const eleven = typed('11.0.0', 'fp16');
    expect(eleven.filter((a) => /^--(fp16|bf16|int8|stronglyTyped)/.test(a))).toEqual([]);
  });

  it('warns that --fp16 is deprecated from 10.14 and says nothing before', () => {
    expect(buildTrtexecCommand(base('10.14.1', 'fp16', STATIC)).warnings).toHaveLength(1);
    expect(buildTrtexecCommand(base('10.13.2', 'fp16', STATIC)).warnings).toEqual([]);
  });

  it('names the AutoCast step when TensorRT 11 is asked for FP16 from an FP32 ONNX', () => {
    expect(() => buildTrtexecCommand(base('11.0.0', 'fp16', STATIC))).toThrow(/autocast/);
  });

  it('refuses INT8 from a model without Q/DQ and without a calibration cache, on every version (trtexec would calibrate on random data)', () => {
    for (const version of Object.keys(PRECISION_TABLE)) {
      for (const shapes of [DYNAMIC, STATIC]) {
        expect(() => buildTrtexecCommand({ ...base(version, 'int8', shapes), onnxIsQdq: false }), version).toThrow(/random data/);
        const { onnxIsQdq: _, ...undeclared } = base(version, 'int8', shapes) as ReturnType<typeof base> & { onnxIsQdq?: boolean };
        expect(() => buildTrtexecCommand(undeclared), version).toThrow(/random data/);
      }
    }
  });

  it('uses --calib only for implicit calibration on TensorRT < 10', () => {
    const cmd = buildTrtexecCommand({ ...base('8.6.1', 'int8', DYNAMIC), onnxIsQdq: false, int8CalibrationCache: 'calib.cache' });
    expect(cmd.args).toContain('--int8');
    expect(cmd.args).toContain('--calib=calib.cache');
    expect(() => buildTrtexecCommand({ ...base('10.0.1', 'int8', DYNAMIC), onnxIsQdq: false, int8CalibrationCache: 'calib.cache' })).toThrow(/explicit quantization|Q\/DQ/);
    expect(() => buildTrtexecCommand({ ...base('8.6.1', 'int8', DYNAMIC), int8CalibrationCache: 'calib.cache' })).toThrow(/carries its scales/);
    expect(() => buildTrtexecCommand({ ...base('8.6.1', 'fp16', DYNAMIC), int8CalibrationCache: 'calib.cache' })).toThrow(UserError);
  });

  it('adds the timing cache and detailed layer info, and keeps TF32 when allowed', () => {
    const cmd = buildTrtexecCommand({
      ...base('10.16.1', 'fp32', STATIC),
      workspaceMiB: undefined,
      timingCachePath: 'cache/timing-sm90-trt10.16.1.cache',
      layerInfoPath: 'out/layers.json',
      allowTf32: true,
    });
    expect(cmd.args).toEqual([
      '--onnx=work/model.onnx',
      '--saveEngine=work/model.engine',
      '--stronglyTyped',
      '--timingCacheFile=cache/timing-sm90-trt10.16.1.cache',
      '--profilingVerbosity=detailed',
      '--exportLayerInfo=out/layers.json',
      '--skipInference',
    ]);
  });

  it('refuses TensorRT older than 8.6 (the oldest supported)', () => {
    expect(() => buildTrtexecCommand(base('8.5.10', 'fp32', STATIC))).toThrow(/older than 8\.6\.0/);
  });

  it('rejects a workspace that is not a whole positive MiB count', () => {
    expect(() => buildTrtexecCommand({ ...base('10.14.1', 'fp32', STATIC), workspaceMiB: 0 })).toThrow(UserError);
    expect(() => buildTrtexecCommand({ ...base('10.14.1', 'fp32', STATIC), workspaceMiB: 1.5 })).toThrow(UserError);
  });
});

describe('profileShapeArgs', () => {
  it('leaves out fixed inputs and joins several dynamic ones', () => {
    const args = profileShapeArgs([
      { name: 'ids', dims: [{ name: 'batch', min: 1, opt: 4, max: 8 }, { name: 'seq', min: 16, opt: 128, max: 512 }] },
      { name: 'scale', dims: [1] },
      { name: 'mask:0', dims: [{ name: 'batch', min: 1, opt: 4, max: 8 }, 512] },
    ]);
    expect(args).toEqual([
      "--minShapes=ids:1x16,'mask:0':1x512",
      "--optShapes=ids:4x128,'mask:0':4x512",
      "--maxShapes=ids:8x512,'mask:0':8x512",
    ]);
  });
});

describe('buildTrtexecBenchCommand', () => {
  it('times a dynamic engine at one shape with exports, spin-wait, and a separate profile run', () => {
    const cmd = buildTrtexecBenchCommand({
      enginePath: 'e.engine',
      version: v('10.16.1'),
      inputs: DYNAMIC,
      shape: { input: [8, 3, 224, 224] },
      warmUpMs: 500,
      iterations: 1000,
      timesPath: 'times.json',
      profilePath: 'profile.json',
    });
    expect(cmd.args).toEqual([
      '--loadEngine=e.engine',
      '--shapes=input:8x3x224x224',
      '--warmUp=500',
      '--iterations=1000',
      '--useSpinWait',
      '--exportTimes=times.json',
      '--exportProfile=profile.json',
      '--separateProfileRun',
    ]);
  });

  it('omits --shapes for a static engine and adds CUDA graphs / no transfers only on request', () => {
    const cmd = buildTrtexecBenchCommand({ enginePath: 'e', version: v('8.6.1'), inputs: STATIC, iterations: 100, durationS: 0, cudaGraph: true, noDataTransfers: true, spinWait: false });
    expect(cmd.args).toEqual(['--loadEngine=e', '--warmUp=200', '--iterations=100', '--duration=0', '--useCudaGraph', '--noDataTransfers']);
  });

  it('requires a shape for every dynamic input, with the right rank', () => {
    expect(() => buildTrtexecBenchCommand({ enginePath: 'e', version: v('10.0.1'), inputs: DYNAMIC, iterations: 10 })).toThrow(/no benchmark shape for dynamic input "input"/);
    expect(() => buildTrtexecBenchCommand({ enginePath: 'e', version: v('10.0.1'), inputs: DYNAMIC, shape: { input: [8, 3, 224] }, iterations: 10 })).toThrow(/3 dims, expected 4/);
  });
});
