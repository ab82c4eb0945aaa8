import { describe, expect, it } from 'vitest';
import {
  parseExportProfile,
  parseExportTimes,
  parseLayerInfo,
  summarizeExportTimes,
  summarizeLatencies,
  trtexecMedian,
  trtexecPercentile,
} from '../../../lib/trtexec/parse-json.ts';
import { parseTrtexecLog } from '../../../lib/trtexec/parse-log.ts';
import { fixture, fixtureNames } from './fixtures.ts';

describe('JSON fixtures', () => {
  it('are the ones this file tests', () => {
    expect(fixtureNames('.json')).toEqual([
      'trt10_16_exportLayerInfo_detailed_mnist_h100.json',
      'trt10_6_exportLayerInfo_detailed_resnet18_int8_h200.json',
      'trt10_6_exportTimes_resnet18_fp16_b64x288_h200.json',
      'trt8_6_0_exportLayerInfo_names_only_mnist_rtx3090.json',
      'trt8_x_exportLayerInfo_detailed_resnet50_tf_fp32_rtx3090.json',
      'trt8_x_exportProfile_resnet50_tf_fp32_rtx3090.json',
      'trt8_x_exportTimes_resnet50_tf_fp32_rtx3090.json',
      'trtUNK_int8_exportProfile_detr_resnet50.json',
    ]);
  });
});

describe('--exportTimes', () => {
  const records = parseExportTimes(fixture('trt8_x_exportTimes_resnet50_tf_fp32_rtx3090.json'));

  it('reads every record', () => {
    expect(records).toHaveLength(263);
    expect(records[0]).toEqual({
      startEnqMs: 16.6644, endEnqMs: 16.9316, startH2dMs: 16.6236, endH2dMs: 16.6236, startComputeMs: 16.6236, endComputeMs: 29.6417,
      startD2hMs: 29.6417, endD2hMs: 29.6417, h2dMs: 0, computeMs: 13.0181, d2hMs: 0, latencyMs: 13.0181,
    });
  });

  it('computes p50/p95/p99 of per-query latency the way trtexec does', () => {
    const s = summarizeExportTimes(records);
    expect(s.queries).toBe(263);
    expect(s.latencyMs).toMatchObject({ count: 263, min: 12.0986, max: 13.0181, p50: 12.1682, p95: 12.7857, p99: 12.7959 });
    expect(s.latencyMs.mean).toBeCloseTo(12.229919391634976, 12);
    expect(s.computeMs.p99).toBe(12.7959);
    expect(s.throughputQps).toBeCloseTo(81.75787259922515, 9);
  });

  it('rejects a file with other keys (TensorRT 7 used inMs/endToEndMs)', () => {
    expect(() => parseExportTimes('[{"startInMs": 1, "inMs": 2, "endToEndMs": 3}]')).toThrow(/exportTimes: unexpected shape at 0\.startEnqMs/);
    expect(() => parseExportTimes('[{')).toThrow(/not valid JSON/);
  });
});

describe('--exportTimes recorded on the H200 (TensorRT 10.6, ResNet-18 fp16, 64x3x288x288)', () => {
  const records = parseExportTimes(fixture('trt10_6_exportTimes_resnet18_fp16_b64x288_h200.json'));
  const log = parseTrtexecLog(fixture('trt10_6_infer_resnet18_fp16_b64x288_h200.log'));

  it('reads every record', () => {
    expect(records).toHaveLength(742);
    expect(records[0]).toEqual({
      startEnqMs: 199.414, endEnqMs: 199.681, startH2dMs: 199.295, endH2dMs: 200.451, startComputeMs: 200.604, endComputeMs: 201.947,
      startD2hMs: 201.956, endD2hMs: 201.959, h2dMs: 1.15581, computeMs: 1.34233, d2hMs: 0.00358582, latencyMs: 2.50172,
    });
  });

  it('summarizes to what trtexec printed in the same run', () => {
    const s = summarizeExportTimes(records);
    const latency = log.performance!.latency!;
    const compute = log.performance!.gpuComputeTime!;
    expect([s.latencyMs.min, s.latencyMs.max, s.latencyMs.p95, s.latencyMs.p99]).toEqual([latency.min, latency.max, latency.percentiles['95'], latency.percentiles['99']]);
    expect(s.latencyMs.p50).toBeCloseTo(latency.median, 9);
    expect(s.latencyMs.mean).toBeCloseTo(latency.mean, 5);
    expect([s.computeMs.p50, s.computeMs.p99]).toEqual([compute.median, compute.percentiles['99']]);
    // trtexec divides by its host walltime; the records' span differs by a few hundredths of a percent.
    expect(s.throughputQps / log.performance!.throughputQps!).toBeCloseTo(1, 3);
  });
});

describe('detailed --exportLayerInfo recorded on the H200 (TensorRT 10.6, ResNet-18 int8 from Q/DQ)', () => {
  it('reads the layers of the INT8 engine', () => {
    const info = parseLayerInfo(fixture('trt10_6_exportLayerInfo_detailed_resnet18_int8_h200.json'));
    expect(info.verbosity).toBe('detailed');
    expect(info.layerNames).toHaveLength(37);
    expect(info.layerTypes).toEqual({ Constant: 2, PointWiseV2: 8, Reformat: 2, CaskConvolution: 20, CaskPooling: 1, shape_call: 1, kgen: 2, gemm: 1 });
    expect(info.layerNames.slice(0, 3)).toEqual(['std', 'mean', 'PWN(node_sub, node_div)']);
  });
});

describe('trtexec percentile and median', () => {
  it('matches sampleReporting.cpp on small lists', () => {
    const ten = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    expect(trtexecPercentile(ten, 99)).toBe(10);
    expect(trtexecPercentile(ten, 90)).toBe(9);
    expect(trtexecPercentile(ten, 50)).toBe(5);
    expect(trtexecPercentile(ten, 0)).toBe(1);
    expect(trtexecMedian(ten)).toBe(5.5);
    expect(trtexecMedian([3, 1, 2].sort())).toBe(2);
    expect(trtexecPercentile([], 99)).toBe(Number.POSITIVE_INFINITY);
    expect(() => trtexecPercentile(ten, 101)).toThrow(RangeError);
    expect(summarizeLatencies([4, 1, 3, 2])).toEqual({ count: 4, min: 1, max: 4, mean: 2.5, p50: 2.5, p95: 4, p99: 4 });
  });
});

describe('--exportProfile', () => {
  it('reads the 8.x resnet50 profile', () => {
    const p = parseExportProfile(fixture('trt8_x_exportProfile_resnet50_tf_fp32_rtx3090.json'));
    expect(p.count).toBe(1);
    expect(p.layers).toHaveLength(103);
    expect(p.layers[0]).toEqual({ name: 'resnet50/conv1_conv/Conv2D__6', timeMs: 0.08704, averageMs: 0.08704, medianMs: 0.08704, percentage: 0.70195 });
    expect(p.totalAverageMs).toBeCloseTo(12.399744, 6);
    expect(p.layers.filter((l) => l.timeMs === 0)).toHaveLength(31);
  });

  it('reads the INT8 DETR profile with zero rows and odd names', () => {
    const p = parseExportProfile(fixture('trtUNK_int8_exportProfile_detr_resnet50.json'));
    expect(p.count).toBe(641);
    expect(p.layers).toHaveLength(840);
    expect(p.layers[0]).toEqual({ name: '/model/model/Transpose_1_output_0', timeMs: 0, averageMs: 0, medianMs: 0, percentage: 0 });
    expect(p.layers.filter((l) => l.timeMs === 0)).toHaveLength(340);
    expect(p.totalAverageMs).toBeCloseTo(4.16160691, 6);
    expect(p.layers.some((l) => l.name === 'PWN(PWN(/Sub), PWN(/Div))')).toBe(true);
  });

  it('needs the count element first', () => {
    expect(() => parseExportProfile('[]')).toThrow(/exportProfile/);
    expect(() => parseExportProfile('[{"name":"x"}]')).toThrow(/exportProfile\[0\]/);
  });
});

describe('--exportLayerInfo', () => {
  it('reads a names-only export (8.6)', () => {
    const li = parseLayerInfo(fixture('trt8_6_0_exportLayerInfo_names_only_mnist_rtx3090.json'));
    expect(li.verbosity).toBe('names-only');
    expect(li.layerNames).toHaveLength(15);
    expect(li.layerNames[0]).toBe('Reformatting CopyNode for Input Tensor 0 to Conv-1 + ReLU-2');
    expect(li.layerNames.at(-1)).toBe('(Unnamed Layer* 32) [Shuffle]');
    expect(li.bindings).toEqual(['tensor-0', 'tensor-15']);
    expect(li.layers).toEqual([]);
  });

  it('reads a detailed 10.16 export with Location, StreamId and Metadata', () => {
    const li = parseLayerInfo(fixture('trt10_16_exportLayerInfo_detailed_mnist_h100.json'));
    expect(li.verbosity).toBe('detailed');
    expect(li.layers).toHaveLength(9);
    expect(li.bindings).toEqual(['x', 'y', 'z']);
    expect(li.layerTypes).toEqual({ CaskConvolution: 2, CaskPooling: 2, gemm: 1, kgen: 4 });
    const conv = li.layers[0]!;
    expect(conv.Name).toBe('node_conv2d + node_relu');
    expect(conv.Inputs[0]).toMatchObject({ Name: 'x', Location: 'Device', Dimensions: [1, 1, 28, 28], 'Format/Datatype': 'Float' });
    expect(conv.StreamId).toBe(0);
    expect(conv.TacticValue).toBe('0x5b8bf1b8028629d9');
    expect(li.onnxLayers['node_conv2d + node_relu']).toEqual(['node_conv2d', 'node_relu']);
    expect(li.onnxLayers['__myl_DivMulMaxr_myl4_3']).toEqual(['node_softmax', 'node_argmax']);
    expect(li.onnxLayers['__myl_CastReshCast_myl4_4']).toEqual([]);
  });

  it('reads a detailed 8.x export without Location or Metadata', () => {
    const li = parseLayerInfo(fixture('trt8_x_exportLayerInfo_detailed_resnet50_tf_fp32_rtx3090.json'));
    expect(li.verbosity).toBe('detailed');
    expect(li.layers).toHaveLength(103);
    expect(li.bindings).toEqual(['input_1', 'predictions']);
    expect(li.layerTypes.CaskConvolution).toBe(53);
    expect(li.layerTypes.NoOp).toBe(31);
    expect(li.layers[0]!.Inputs[0]!.Location).toBeUndefined();
    expect(li.layers[0]!.Metadata).toBeUndefined();
    expect(li.layerNames.at(-1)).toBe('resnet50/predictions/Softmax');
    expect(li.onnxLayers).toEqual({});
  });

  it("accepts TensorRT 11's I/O Tensors in place of Bindings", () => {
    const li = parseLayerInfo('{"Layers": ["a"], "I/O Tensors": [{"Name": "x"}, {"Name": "y"}]}');
    expect(li.bindings).toEqual(['x', 'y']);
  });
});
