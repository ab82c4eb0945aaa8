/** trtexec runs → Temporal failures, on the recorded real logs of test/fixtures/trtexec/. */
import { describe, expect, it } from 'vitest';
import { ErrorType } from '../../../lib/errors.ts';
import { trtexecFailure, workspaceForAttempt } from '../../../activities/tensorrt/failure.ts';
import { trtexecProgress } from '../../../activities/tensorrt/trtexec-process.ts';
import { gpuQueues, trtQueueVersion } from '../../../activities/tensorrt/host.ts';
import { benchShapes } from '../../../activities/tensorrt/bench-shapes.ts';
import { fixture } from '../trtexec/fixtures.ts';

const outcome = (text: string, exitCode = 1) => ({ exitCode, signal: undefined, canceled: false, text, pid: 42 });
const ctx = { what: 'TensorRT fp16 build of h100', workerId: 'gpu-host', logUri: 'file:///store/build.log' };

describe('trtexecFailure', () => {
  it('passes a PASSED run', () => {
    expect(trtexecFailure(outcome(fixture('trt10_16_fp32_build_mnist_h100.log'), 0), ctx)).toBeUndefined();
  });

  it('makes plugin-not-found non-retryable bad input with the advice', () => {
    const f = trtexecFailure(outcome(fixture('trt10_16_failed_plugin_not_found_rtx6000ada.log')), ctx)!;
    expect(f.nonRetryable).toBe(true);
    expect(f.type).toBe(ErrorType.BadInput);
    expect(f.message).toContain('unsupported-operator');
    expect(f.message).toContain('no TensorRT importer and no plugin provides it');
    expect(f.message).toContain('Build log: file:///store/build.log');
  });

  it('retries a builder that could not be created, and a crash without a FAILED line', () => {
    const builder = trtexecFailure(outcome(fixture('trt10_13_failed_builder_creation_yolov8n_rtx5070_issue4569_tail.log')), ctx)!;
    expect(builder.nonRetryable).toBe(false);
    expect(builder.type).toBe(ErrorType.Infrastructure);
    expect(builder.message).toMatch(/builder-creation on gpu-host .*Retry on another worker/);
    const crash = trtexecFailure(outcome(fixture('trt8_4_10_crash_myelin_assert_orin.log'), 134), ctx)!;
    expect(crash.nonRetryable).toBe(false);
    expect(crash.type).toBe(ErrorType.Infrastructure);
    expect(crash.message).toMatch(/trtexec crashed \(exit 134, no PASSED\/FAILED line\)/);
  });

  it('retries out of memory with the next workspace in the message', () => {
    const oomLog = `${fixture('trt10_16_fp32_build_mnist_h100.log').split('&&&& PASSED')[0]}[07/07/2026-02:10:54] [E] Error[2]: [virtualMemoryBuffer.cpp::resizePhysical::140] Error Code 2: OutOfMemory (Requested size was 2147483648 bytes.)\n&&&& FAILED TensorRT.trtexec [TensorRT v101601] [b11] # trtexec\n`;
    const f = trtexecFailure(outcome(oomLog), { ...ctx, nextWorkspaceMiB: 40_000 })!;
    expect(f.nonRetryable).toBe(false);
    expect(f.message).toContain('out of memory');
    expect(f.message).toContain('The next attempt uses --memPoolSize=workspace:40000M.');
  });

  it('says when trtexec cannot start or was cancelled', () => {
    expect(trtexecFailure({ ...outcome(''), exitCode: undefined, spawnError: 'spawn trtexec ENOENT' }, ctx)!.message).toMatch(/could not be started on gpu-host: spawn trtexec ENOENT/);
    expect(trtexecFailure({ ...outcome(''), canceled: true }, ctx)!.message).toMatch(/cancelled; trtexec \(pid 42\) was ended/);
  });
});

describe('workspaceForAttempt', () => {
  it('halves per earlier attempt, from the configured size or the GPU memory, down to a floor', () => {
    expect(workspaceForAttempt(undefined, 1, 81_081)).toBeUndefined();
    expect(workspaceForAttempt(8192, 1, 81_081)).toBe(8192);
    expect(workspaceForAttempt(8192, 2, 81_081)).toBe(4096);
    expect(workspaceForAttempt(8192, 3, 81_081)).toBe(2048);
    expect(workspaceForAttempt(undefined, 2, 81_081)).toBe(40_540);
    expect(workspaceForAttempt(1024, 10, 81_081)).toBe(256);
  });
});

describe('progress and queues', () => {
  it('turns build phases of a recorded log into progress messages', () => {
    const messages = fixture('trt10_16_fp32_build_mnist_h100.log').split('\n').map(trtexecProgress).filter(Boolean);
    expect(messages).toEqual(expect.arrayContaining(['parsing the ONNX model', 'builder ready; choosing tactics', 'engine generated in 7.4 s', 'Engine built in 8.1 s', 'trtexec passed']));
  });

  it('names queues by architecture and TensorRT version', () => {
    const v = { major: 10, minor: 16, patch: 1 };
    expect(trtQueueVersion(v)).toBe('10.16');
    expect(gpuQueues({ arch: 'sm90', tensorrt: v })).toEqual(['gpu-sm90-trt10.16', 'gpu-sm90']);
  });

  it('times min, opt, max and mid shapes unless the manifest names them', () => {
    const inputs = [{ name: 'input', dtype: 'float32' as const, dims: [{ name: 'batch', min: 1, opt: 32, max: 256 }, 1, 8, 8] }];
    expect(benchShapes({ inputs, benchmark: { warmup: 1, iterations: 1 } })).toEqual([
      { input: [1, 1, 8, 8] },
      { input: [32, 1, 8, 8] },
      { input: [256, 1, 8, 8] },
      { input: [128, 1, 8, 8] },
    ]);
    // Every dynamic dim at its midpoint; a mid equal to another point is timed once.
    const image = [{ name: 'image', dtype: 'float32' as const, dims: [{ name: 'b', min: 1, opt: 32, max: 64 }, 3, { name: 'h', min: 160, opt: 224, max: 288 }, { name: 'w', min: 160, opt: 224, max: 288 }] }];
    expect(benchShapes({ inputs: image, benchmark: { warmup: 1, iterations: 1 } }).map((s) => s.image)).toEqual([
      [1, 3, 160, 160],
      [32, 3, 224, 224],
      [64, 3, 288, 288],
    ]);
    expect(benchShapes({ inputs, benchmark: { warmup: 1, iterations: 1, shapes: [{ input: [4, 1, 8, 8] }] } })).toEqual([{ input: [4, 1, 8, 8] }]);
  });
});
