import { describe, expect, it } from 'vitest';
import { classifyTrtexecFailure, type TrtexecFailureClass } from '../../../lib/trtexec/classify.ts';
import { parseTrtexecLog } from '../../../lib/trtexec/parse-log.ts';
import { fixture, fixtureNames } from './fixtures.ts';

const CLASS_BY_FIXTURE: Record<string, { cls: TrtexecFailureClass | null; retryable?: boolean; evidence?: RegExp }> = {
  'trt10_13_failed_builder_creation_yolov8n_rtx5070_issue4569_tail.log': { cls: 'builder-creation', retryable: true, evidence: /validateCaskKLibSize/ },
  'trt10_8_failed_builder_creation_yolov8n_rtx5070_issue4572_tail.log': { cls: 'builder-creation', retryable: true, evidence: /createCaskKernelLibraryImpl/ },
  'trt10_16_failed_plugin_not_found_rtx6000ada.log': { cls: 'unsupported-operator', retryable: false, evidence: /checkFallbackPluginImporter/ },
  'trt8_4_10_crash_myelin_assert_orin.log': { cls: 'crash', retryable: true, evidence: /Assertion `0 && "Unsupported type"' failed/ },
  'trt10_6_failed_int8_ort_default_qdq_digits_h200.log': { cls: 'unsupported-quantization', retryable: false, evidence: /only activation types allowed/ },
  'trt10_6_failed_int8_quantized_constant_regression_h200.log': { cls: 'unsupported-quantization', retryable: false, evidence: /Quantized constant is only allowed before DQ/ },
  'trt10_6_fp16_dynamic_build_resnet18_h200.log': { cls: null },
  'trt10_6_infer_resnet18_fp16_b64x288_h200.log': { cls: null },
  'trt10_6_int8_qdq_build_digits_h200.log': { cls: null },
  'trt10_14_fp16_build_yolov8n_rtx4080s.log': { cls: null },
  'trt10_14_fp16_dynamic_build_verbose_mnist_rtx6000ada.log': { cls: null },
  'trt10_16_fp32_build_mnist_h100.log': { cls: null },
  'trt10_16_infer_dumpprofile_mnist_h100.log': { cls: null },
  'trt8_4_1_fp16_dynamic_build_infer_verbose_mnist_gtx1070.log': { cls: null },
  'trt8_5_10_best_qat_dumpprofile_verbose_resnet18_rtx2000ada.log': { cls: null },
  'trt8_5_10_build_plugin_verbose_identity_rtx2000ada.log': { cls: null },
  'trt8_6_0_fp16_dynamic_build_verbose_mnist_rtx3090.log': { cls: null },
  'trt8_6_0_infer_verbose_mnist_rtx3090.log': { cls: null },
  'trt8_6_1_fp32_build_verbose_segformer_t4.log': { cls: null },
};

describe('classifyTrtexecFailure on every recorded log', () => {
  it('covers every .log fixture', () => expect(Object.keys(CLASS_BY_FIXTURE).sort()).toEqual(fixtureNames('.log')));

  for (const [name, want] of Object.entries(CLASS_BY_FIXTURE)) {
    it(`${name} → ${want.cls ?? 'passed'}`, () => {
      const text = fixture(name);
      const f = classifyTrtexecFailure(parseTrtexecLog(text), text);
      if (want.cls === null) {
        expect(f).toBeNull();
        return;
      }
      expect(f!.class).toBe(want.cls);
      expect(f!.retryable).toBe(want.retryable);
      expect(f!.evidence).toMatch(want.evidence!);
      expect(f!.errorType).toBe(want.retryable ? 'Infrastructure' : 'BadInput');
      expect(f!.advice.length).toBeGreaterThan(40);
    });
  }
});

/** A minimal failed log around the given [E] lines. */
const failed = (...errors: string[]): string =>
  [
    '&&&& RUNNING TensorRT.trtexec [TensorRT v101601] [b11] # trtexec --onnx=m.onnx',
    '[07/07/2026-02:10:45] [I] Set shape of input tensor x for optimization profile 0 to: MIN=1x3 OPT=1x3 MAX=1x3',
    ...errors.map((e) => `[07/07/2026-02:10:46] [E] ${e}`),
    '[07/07/2026-02:10:46] [E] Engine set up failed',
    '&&&& FAILED TensorRT.trtexec [TensorRT v101601] [b11] # trtexec --onnx=m.onnx',
  ].join('\n');

describe('classifyTrtexecFailure rules', () => {
  it.each([
    ['[TRT] ModelImporter.cpp:726: No importer registered for op: GridSample3D', 'unsupported-operator', false],
    ['Error[2]: [virtualMemoryBuffer.cpp::resizePhysical::140] Error Code 2: OutOfMemory (no further information)', 'out-of-memory', true],
    ['[TRT] Requested amount of GPU memory (17179869184 bytes) could not be allocated', 'out-of-memory', true],
    ['Builder creation failed', 'builder-creation', true],
    ['[TRT] IExecutionContext::setInputShape: Error Code 3: API Usage Error (Parameter check failed, condition: satisfyProfile)', 'shape-mismatch', false],
    ['Static model does not take explicit shapes since the shape of inference tensors will be determined by the model itself', 'shape-mismatch', false],
    ['Unknown option: --workspace 4096', 'invalid-arguments', false],
    // TensorRT 10.6 on an H200 refusing ONNX Runtime's default QDQ output (the first real run).
    ['[TRT] ModelImporter.cpp:946: While parsing node number 0 [DequantizeLinear -> "conv1.bias"]:', 'unsupported-quantization', false],
    ['[TRT] conv1.bias_DequantizeLinear: only activation types allowed as input to this layer.', 'unsupported-quantization', false],
    ["[TRT] TensorRT doesn't support QuantizeLinear/DequantizeLinear with UINT8 zero_point", 'unsupported-quantization', false],
    ['Failed to parse onnx file', 'onnx-parse', false],
    ['Something nobody has seen', 'unknown', false],
  ] as const)('%s → %s', (line, cls, retryable) => {
    const text = failed(line);
    const f = classifyTrtexecFailure(parseTrtexecLog(text), text)!;
    expect(f.class).toBe(cls);
    expect(f.retryable).toBe(retryable);
    expect(f.evidence).toBe(line);
  });

  it('classifies the real refusal of ONNX Runtime\'s default QDQ on the H200 (TensorRT 10.6) as the Q/DQ form', () => {
    const text = fixture('trt10_6_failed_int8_ort_default_qdq_digits_h200.log');
    const f = classifyTrtexecFailure(parseTrtexecLog(text), text)!;
    expect(f.class).toBe('unsupported-quantization');
    expect(f.retryable).toBe(false);
    expect(f.evidence).toBe('Error[3]: ITensor::getDimensions: Error Code 3: API Usage Error (conv1.bias_DequantizeLinear: only activation types allowed as input to this layer.)');
  });

  it('blames the Q/DQ form, never the opset, when the parser refuses an INT8 model', () => {
    const text = failed('[TRT] ModelImporter.cpp:946: While parsing node number 0 [DequantizeLinear -> "conv1.bias"]:', 'Failed to parse onnx file');
    const f = classifyTrtexecFailure(parseTrtexecLog(text), text)!;
    expect(f.advice).toMatch(/float biases/);
    expect(f.advice).toMatch(/opset is not the cause/);
  });

  it('does not read normal info lines as evidence', () => {
    const text = failed('Mystery');
    expect(classifyTrtexecFailure(parseTrtexecLog(text), text)!.class).toBe('unknown');
  });
});
