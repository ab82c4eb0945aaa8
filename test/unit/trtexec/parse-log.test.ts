import { describe, expect, it } from 'vitest';
import { parseTimingStats, parseTrtexecLog, TrtexecLogError } from '../../../lib/trtexec/parse-log.ts';
import type { TrtexecLog } from '../../../lib/trtexec/log-schema.ts';
import { fixture, fixtureNames } from './fixtures.ts';

/** What each recorded log says, written down from reading the files. */
interface Expected {
  status: TrtexecLog['status'];
  version: string;
  bannerCode: number;
  buildTag: string | null;
  precision: string | null;
  workspaceMiB: number | null;
  device: { name: string; arch: string } | null;
  engineSizeMiB: number | null;
  loadedSizeMiB: number | null;
  buildSeconds: number | null;
  peak: { cpu: number | null; gpu: number | null };
  throughputQps: number | null;
  /** Latency min, mean, median, max and p99, in ms. */
  latency?: [number, number, number, number, number];
  /** GPU compute median and p99. */
  gpuCompute?: [number, number];
}

const EXPECTED: Record<string, Expected> = {
  'trt10_13_failed_builder_creation_yolov8n_rtx5070_issue4569_tail.log': {
    status: 'failed', version: '10.13.2', bannerCode: 101302, buildTag: 'b6', precision: null, workspaceMiB: null, device: null,
    engineSizeMiB: null, loadedSizeMiB: null, buildSeconds: null, peak: { cpu: 13086, gpu: 1238 }, throughputQps: null,
  },
  'trt10_14_fp16_build_yolov8n_rtx4080s.log': {
    status: 'passed', version: '10.14.1', bannerCode: 101401, buildTag: 'b48', precision: 'FP32+FP16', workspaceMiB: null,
    device: { name: 'NVIDIA GeForce RTX 4080 SUPER', arch: 'sm89' }, engineSizeMiB: 7.80715, loadedSizeMiB: 7, buildSeconds: 171.555,
    peak: { cpu: 515, gpu: 1346 }, throughputQps: 741.755,
    latency: [1.04419, 1.27044, 1.23547, 2.87628, 1.75824], gpuCompute: [1.15198, 1.6228],
  },
  'trt10_14_fp16_dynamic_build_verbose_mnist_rtx6000ada.log': {
    status: 'passed', version: '10.14.1', bannerCode: 101401, buildTag: 'b48', precision: 'FP32+FP16',
    // --memPoolSize=workspace:1024MiB: the trailing B makes it 1024 bytes on 10.x.
    workspaceMiB: 0.000976562,
    device: { name: 'NVIDIA RTX 6000 Ada Generation', arch: 'sm89' }, engineSizeMiB: 6.3747, loadedSizeMiB: 6, buildSeconds: 13.8436,
    peak: { cpu: 511, gpu: 1780 }, throughputQps: null,
  },
  'trt10_16_failed_plugin_not_found_rtx6000ada.log': {
    status: 'failed', version: '10.16.0', bannerCode: 101600, buildTag: 'b72', precision: 'FP32', workspaceMiB: null,
    device: { name: 'NVIDIA RTX 6000 Ada Generation', arch: 'sm89' }, engineSizeMiB: null, loadedSizeMiB: null, buildSeconds: null,
    peak: { cpu: 30, gpu: 1918 }, throughputQps: null,
  },
  'trt10_16_fp32_build_mnist_h100.log': {
    status: 'passed', version: '10.16.1', bannerCode: 101601, buildTag: 'b11', precision: 'FP32', workspaceMiB: null,
    device: { name: 'NVIDIA H100 PCIe', arch: 'sm90' }, engineSizeMiB: 12.5744, loadedSizeMiB: 12, buildSeconds: 8.09138,
    peak: { cpu: 768, gpu: 470 }, throughputQps: 15374.3,
    latency: [0.0410156, 0.0441053, 0.0440674, 0.14917, 0.0512695], gpuCompute: [0.0361328, 0.041748],
  },
  'trt10_16_infer_dumpprofile_mnist_h100.log': {
    status: 'passed', version: '10.16.1', bannerCode: 101601, buildTag: 'b11', precision: null, workspaceMiB: null,
    device: { name: 'NVIDIA H100 PCIe', arch: 'sm90' }, engineSizeMiB: null, loadedSizeMiB: 6, buildSeconds: null,
    peak: { cpu: 0, gpu: 8 }, throughputQps: null,
  },
  // Recorded by modelship on the H200 (TensorRT 10.6 from ../shared/device-kit), 2026-11-30.
  'trt10_6_failed_int8_ort_default_qdq_digits_h200.log': {
    status: 'failed', version: '10.6.0', bannerCode: 100600, buildTag: 'b26', precision: 'FP32+INT8', workspaceMiB: null,
    device: { name: 'NVIDIA H200', arch: 'sm90' }, engineSizeMiB: null, loadedSizeMiB: null, buildSeconds: null,
    peak: { cpu: 4873, gpu: 2390 }, throughputQps: null,
  },
  'trt10_6_failed_int8_quantized_constant_regression_h200.log': {
    status: 'failed', version: '10.6.0', bannerCode: 100600, buildTag: 'b26', precision: 'FP32+INT8', workspaceMiB: null,
    device: { name: 'NVIDIA H200', arch: 'sm90' }, engineSizeMiB: null, loadedSizeMiB: null, buildSeconds: null,
    peak: { cpu: 4873, gpu: 1818 }, throughputQps: null,
  },
  'trt10_6_fp16_dynamic_build_resnet18_h200.log': {
    status: 'passed', version: '10.6.0', bannerCode: 100600, buildTag: 'b26', precision: 'FP32+FP16', workspaceMiB: null,
    device: { name: 'NVIDIA H200', arch: 'sm90' }, engineSizeMiB: 22.2613, loadedSizeMiB: 22, buildSeconds: 54.316,
    peak: { cpu: 4873, gpu: 2390 }, throughputQps: null,
  },
  'trt10_6_infer_resnet18_fp16_b64x288_h200.log': {
    status: 'passed', version: '10.6.0', bannerCode: 100600, buildTag: 'b26', precision: null, workspaceMiB: null,
    device: { name: 'NVIDIA H200', arch: 'sm90' }, engineSizeMiB: null, loadedSizeMiB: 22, buildSeconds: null,
    peak: { cpu: 0, gpu: 264 }, throughputQps: 739.067,
    latency: [2.46106, 2.51228, 2.51163, 2.54187, 2.53357], gpuCompute: [1.349, 1.36499],
  },
  'trt10_6_int8_qdq_build_digits_h200.log': {
    status: 'passed', version: '10.6.0', bannerCode: 100600, buildTag: 'b26', precision: 'FP32+INT8', workspaceMiB: null,
    device: { name: 'NVIDIA H200', arch: 'sm90' }, engineSizeMiB: 0.277065, loadedSizeMiB: 0, buildSeconds: 14.4393,
    peak: { cpu: 4873, gpu: 1818 }, throughputQps: null,
  },
  'trt10_8_failed_builder_creation_yolov8n_rtx5070_issue4572_tail.log': {
    status: 'failed', version: '10.8.0', bannerCode: 100800, buildTag: 'b43', precision: null, workspaceMiB: null, device: null,
    engineSizeMiB: null, loadedSizeMiB: null, buildSeconds: null, peak: { cpu: null, gpu: null }, throughputQps: null,
  },
  'trt8_4_10_crash_myelin_assert_orin.log': {
    status: 'crashed', version: '8.4.10', bannerCode: 8410, buildTag: null, precision: 'FP32+FP16+INT8', workspaceMiB: null,
    device: { name: 'Orin', arch: 'sm87' }, engineSizeMiB: null, loadedSizeMiB: null, buildSeconds: null,
    peak: { cpu: 1268, gpu: 4782 }, throughputQps: null,
  },
  'trt8_4_1_fp16_dynamic_build_infer_verbose_mnist_gtx1070.log': {
    status: 'passed', version: '8.4.1', bannerCode: 8401, buildTag: null, precision: 'FP32+FP16', workspaceMiB: 1024,
    device: { name: 'NVIDIA GeForce GTX 1070', arch: 'sm61' }, engineSizeMiB: null, loadedSizeMiB: 12, buildSeconds: 3.05461,
    peak: { cpu: 932, gpu: 893 }, throughputQps: 6106.55,
    latency: [0.158203, 0.169435, 0.161621, 1.80566, 0.433105], gpuCompute: [0.154663, 0.427002],
  },
  'trt8_5_10_best_qat_dumpprofile_verbose_resnet18_rtx2000ada.log': {
    status: 'passed', version: '8.5.10', bannerCode: 8510, buildTag: null, precision: 'FP32+FP16+INT8', workspaceMiB: null,
    device: { name: 'NVIDIA RTX 2000 Ada Generation Laptop GPU', arch: 'sm89' }, engineSizeMiB: null, loadedSizeMiB: 12, buildSeconds: 53.4699,
    peak: { cpu: 2720, gpu: 1722 }, throughputQps: 7329.45,
    latency: [0.133057, 0.134851, 0.134155, 0.690186, 0.135254], gpuCompute: [0.134155, 0.135254],
  },
  'trt8_5_10_build_plugin_verbose_identity_rtx2000ada.log': {
    status: 'passed', version: '8.5.10', bannerCode: 8510, buildTag: null, precision: 'FP32', workspaceMiB: null,
    device: { name: 'NVIDIA RTX 2000 Ada Generation Laptop GPU', arch: 'sm89' }, engineSizeMiB: null, loadedSizeMiB: 0, buildSeconds: 62.4793,
    peak: { cpu: 2631, gpu: 1740 }, throughputQps: 74.8273,
    latency: [12.8588, 12.9076, 12.908, 12.9963, 12.9889], gpuCompute: [0.453613, 0.474121],
  },
  'trt8_6_0_fp16_dynamic_build_verbose_mnist_rtx3090.log': {
    status: 'passed', version: '8.6.0', bannerCode: 8600, buildTag: null, precision: 'FP32+FP16',
    // 8.x reads "1024MiB" with std::stod: 1024 MiB.
    workspaceMiB: 1024,
    device: { name: 'NVIDIA GeForce RTX 3090', arch: 'sm86' }, engineSizeMiB: null, loadedSizeMiB: 6, buildSeconds: 9.55249,
    peak: { cpu: 1310, gpu: 1309 }, throughputQps: null,
  },
  'trt8_6_0_infer_verbose_mnist_rtx3090.log': {
    status: 'passed', version: '8.6.0', bannerCode: 8600, buildTag: null, precision: 'FP32', workspaceMiB: null,
    device: { name: 'NVIDIA GeForce RTX 3090', arch: 'sm86' }, engineSizeMiB: null, loadedSizeMiB: 6, buildSeconds: null,
    peak: { cpu: 0, gpu: 7 }, throughputQps: 21009.2,
    latency: [0.0490112, 0.0533242, 0.0517578, 0.617065, 0.0630798], gpuCompute: [0.0439453, 0.0521851],
  },
  'trt8_6_1_fp32_build_verbose_segformer_t4.log': {
    status: 'passed', version: '8.6.1', bannerCode: 8601, buildTag: null, precision: 'FP32', workspaceMiB: 15000,
    device: { name: 'Tesla T4', arch: 'sm75' }, engineSizeMiB: null, loadedSizeMiB: 55, buildSeconds: 207.112,
    peak: { cpu: 1031, gpu: 940 }, throughputQps: 10.7514,
    latency: [89.9332, 91.9827, 91.6641, 95.8662, 95.8662], gpuCompute: [89.7188, 93.911],
  },
};

describe('parseTrtexecLog on every recorded log', () => {
  it('has an expectation for every .log fixture', () => {
    expect(Object.keys(EXPECTED).sort()).toEqual(fixtureNames('.log'));
  });

  for (const [name, want] of Object.entries(EXPECTED)) {
    it(name, () => {
      const log = parseTrtexecLog(fixture(name));
      expect(log.status).toBe(want.status);
      expect(log.tensorrtVersion).toBe(want.version);
      expect(log.bannerCode).toBe(want.bannerCode);
      expect(log.buildTag).toBe(want.buildTag);
      expect(log.options.precision).toBe(want.precision);
      expect(log.options.workspaceMiB).toBe(want.workspaceMiB);
      expect(log.device ? { name: log.device.name, arch: log.device.arch } : null).toEqual(want.device);
      expect(log.engine.sizeMiB).toBe(want.engineSizeMiB);
      expect(log.engine.loadedSizeMiB).toBe(want.loadedSizeMiB);
      expect(log.engine.buildSeconds).toBe(want.buildSeconds);
      expect({ cpu: log.memory.peakCpuMiB, gpu: log.memory.peakGpuMiB }).toEqual(want.peak);
      expect(log.performance?.throughputQps ?? null).toBe(want.throughputQps);
      if (want.latency) {
        const l = log.performance!.latency!;
        expect([l.min, l.mean, l.median, l.max, l.percentiles['99']]).toEqual(want.latency);
      }
      if (want.gpuCompute) {
        const g = log.performance!.gpuComputeTime!;
        expect([g.median, g.percentiles['99']]).toEqual(want.gpuCompute);
      }
    });
  }
});

describe('parseTrtexecLog details', () => {
  it('reads the 10.14 dynamic profile, inference shape with " :" and the timing cache', () => {
    const log = parseTrtexecLog(fixture('trt10_14_fp16_dynamic_build_verbose_mnist_rtx6000ada.log'));
    expect(log.options.buildShapes).toEqual([{ name: 'x', min: [1, 1, 28, 28], opt: [4, 1, 28, 28], max: [16, 1, 28, 28] }]);
    expect(log.options.inferenceShapes).toEqual({ x: [4, 1, 28, 28] });
    expect(log.options.timingCacheFile).toBe('model-trained.TimingCache');
    expect(log.options.skipInference).toBe(true);
    expect(log.engine.generationSeconds).toEqual([8.33141, 4.93805, 0.19203]);
    expect(log.memory.allocatorPeak).toEqual({ cpuMiB: 6, gpuMiB: 37 });
    expect(log.performance).toBeNull();
    expect(log.args).toContain('--memPoolSize=workspace:1024MiB');
  });

  it('reads the 8.x build shape form and the 8.4 single percentile', () => {
    const log = parseTrtexecLog(fixture('trt8_4_1_fp16_dynamic_build_infer_verbose_mnist_gtx1070.log'));
    expect(log.options.buildShapes).toEqual([{ name: 'tensor-0', min: [1, 1, 28, 28], opt: [4, 1, 28, 28], max: [16, 1, 28, 28] }]);
    expect(log.performance!.latency!.percentiles).toEqual({ '99': 0.433105 });
    expect(log.performance!.totalGpuComputeTimeS).toBe(2.97694);
    expect(log.inference).toEqual({ warmupQueries: 1240, warmupMs: 200, queries: 18323, seconds: 3.00055 });
    expect(log.memory.changes).toHaveLength(11);
  });

  it('takes the automatic profile when no shapes were given (10.16)', () => {
    const log = parseTrtexecLog(fixture('trt10_16_fp32_build_mnist_h100.log'));
    expect(log.options.buildShapes).toEqual([{ name: 'x', min: [1, 1, 28, 28], opt: [1, 1, 28, 28], max: [1, 1, 28, 28] }]);
    expect(log.performance!.enqueueTime!.percentiles).toEqual({ '90': 0.0283203, '95': 0.0299072, '99': 0.0357666 });
    expect(log.performance!.h2dLatency!.mean).toBe(0.00395853);
    expect(log.performance!.d2hLatency!.max).toBe(0.0341797);
    expect(log.performance!.totalHostWalltimeS).toBe(3.00013);
    expect(log.performance!.totalGpuComputeTimeS).toBe(1.6586);
    expect(log.engine.contextDeviceMemoryMiB).toBe(0.119629);
    expect(log.warnings).toContain('Dynamic dimensions required for input: x, but no shapes were provided. Automatically overriding shape to: 1x1x28x28');
  });

  it('skips the NGC container banner and the verbose explanations block', () => {
    const yolo = parseTrtexecLog(fixture('trt10_14_fp16_build_yolov8n_rtx4080s.log'));
    expect(yolo.commandLine).toBe('trtexec --onnx=outputs/models/yolov8n_320.onnx --saveEngine=outputs/engine/yolov8n_320_fp16.engine --fp16');
    expect(yolo.inference).toEqual({ warmupQueries: 148, warmupMs: 200, queries: 2227, seconds: 3.00234 });
    // 8.6.1 verbose: the [V] "GPU Compute Time: the GPU latency..." line must not replace the [I] one.
    const seg = parseTrtexecLog(fixture('trt8_6_1_fp32_build_verbose_segformer_t4.log'));
    expect(seg.performance!.gpuComputeTime!.mean).toBe(90.0191);
    expect(seg.performance!.totalHostWalltimeS).toBe(3.25539);
    expect(seg.memory.allocatorPeak).toEqual({ cpuMiB: 14, gpuMiB: 4096 });
  });

  it('reads the 10.16 --dumpProfile table (name last) and no summary', () => {
    const log = parseTrtexecLog(fixture('trt10_16_infer_dumpprofile_mnist_h100.log'));
    expect(log.performance).toBeNull();
    expect(log.profile!.iterations).toBe(18362);
    expect(log.profile!.layers).toHaveLength(15);
    expect(log.profile!.layers[3]).toEqual({
      layer: 'Reformatting CopyNode for Input Tensor 0 to {ForeignNode[node_conv2d_1...node_relu_1]}',
      timeMs: 101.96, avgMs: 0.0056, medianMs: 0.0044, percent: 6.7,
    });
    expect(log.profile!.total).toEqual({ layer: 'Total', timeMs: 1529.13, avgMs: 0.0833, medianMs: 0.0804, percent: 100 });
  });

  it('reads the 8.5 --dumpProfile table (name first), with --noDataTransfers zeros', () => {
    const log = parseTrtexecLog(fixture('trt8_5_10_best_qat_dumpprofile_verbose_resnet18_rtx2000ada.log'));
    expect(log.profile!.iterations).toBe(7477);
    expect(log.profile!.layers).toHaveLength(24);
    expect(log.profile!.layers[0]).toEqual({ layer: 'QuantizeLinear_2', timeMs: 85.71, avgMs: 0.0115, medianMs: 0.0079, percent: 3.2 });
    expect(log.profile!.layers[1]!.layer).toBe('conv1.weight + QuantizeLinear_7 + Conv_9 + MaxPool_12');
    expect(log.profile!.layers.at(-1)).toEqual({ layer: 'Softmax_312', timeMs: 108.58, avgMs: 0.0145, medianMs: 0.0051, percent: 4 });
    expect(log.profile!.total).toEqual({ layer: 'Total', timeMs: 2689.67, avgMs: 0.3597, medianMs: 0.3074, percent: 100 });
    expect(log.performance!.h2dLatency).toEqual({ min: 0, max: 0, mean: 0, median: 0, percentiles: { '90': 0, '95': 0, '99': 0 } });
    expect(log.options).toMatchObject({ cudaGraph: true, dataTransfers: false, separateProfileRun: true, skipInference: false });
  });

  it('keeps plugin traces out, even after &&&& PASSED (8.5 plugin log)', () => {
    const log = parseTrtexecLog(fixture('trt8_5_10_build_plugin_verbose_identity_rtx2000ada.log'));
    expect(log.status).toBe('passed');
    expect(log.errors).toEqual([]);
    expect(log.lastLine).toBe('2024-06-22 20:52:44.773664: T identity.cpp:252] terminate');
    expect(log.performance!.h2dLatency!.median).toBe(6.22552);
  });

  it('collects [E] lines with the un-prefixed ONNX node dump (plugin not found)', () => {
    const log = parseTrtexecLog(fixture('trt10_16_failed_plugin_not_found_rtx6000ada.log'));
    expect(log.errors).toContain('op_type: "AddScalar"');
    expect(log.errors).toContain('[6] creator && "Plugin not found, are the plugin name, version, and namespace correct?"');
    expect(log.errors.slice(-4)).toEqual(['Failed to parse onnx file', 'Parsing model failed', 'Failed to create engine from model or file.', 'Engine set up failed']);
  });

  it('reports a crash with the assertion as the last line', () => {
    const log = parseTrtexecLog(fixture('trt8_4_10_crash_myelin_assert_orin.log'));
    expect(log.status).toBe('crashed');
    expect(log.lastLine).toMatch(/^trtexec: .*graph\.cpp:1059: .*Assertion `0 && "Unsupported type"' failed\.$/);
  });

  it('handles CRLF line ends and trailing spaces the same', () => {
    const text = fixture('trt10_16_fp32_build_mnist_h100.log');
    const crlf = parseTrtexecLog(text.replace(/\n/g, ' \r\n'));
    expect(crlf).toEqual(parseTrtexecLog(text));
  });

  it('rejects text that is not a trtexec log', () => {
    expect(() => parseTrtexecLog('hello\nworld\n')).toThrow(TrtexecLogError);
  });
});

describe('parseTimingStats', () => {
  it('reads any set of percentiles', () => {
    expect(parseTimingStats('min = 1 ms, max = 3 ms, mean = 2 ms, median = 2 ms, percentile(50%) = 2 ms, percentile(99.9%) = 2.9 ms')).toEqual({
      min: 1, max: 3, mean: 2, median: 2, percentiles: { '50': 2, '99.9': 2.9 },
    });
    expect(parseTimingStats('min = 1 ms')).toBeNull();
  });
});
