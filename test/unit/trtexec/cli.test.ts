import { describe, expect, it } from 'vitest';
import { Command } from 'commander';
import { registerTrtexecCommand, runTrtexecParse } from '../../../cli/trtexec/index.ts';
import { FIXTURE_DIR } from './fixtures.ts';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (s: string) => out.push(s), err: (s: string) => err.push(s) }, out, err };
}

describe('modelship trtexec parse', () => {
  it('prints a readable summary', async () => {
    const c = capture();
    expect(await runTrtexecParse(`${FIXTURE_DIR}trt10_16_fp32_build_mnist_h100.log`, {}, c.io)).toBe(0);
    const text = c.out.join('\n');
    expect(text).toContain('status:     passed');
    expect(text).toContain('TensorRT:   10.16.1 [b11]');
    expect(text).toContain('device:     NVIDIA H100 PCIe (compute 9.0, sm90)');
    expect(text).toContain('engine:     size 12.5744 MiB, built in 8.09138 s');
    expect(text).toContain('throughput: 15374.3 qps');
    expect(text).toContain('p99 0.0512695');
  });

  it('prints JSON with the failure class', async () => {
    const c = capture();
    expect(await runTrtexecParse(`${FIXTURE_DIR}trt10_16_failed_plugin_not_found_rtx6000ada.log`, { json: true }, c.io)).toBe(0);
    const parsed = JSON.parse(c.out.join('\n')) as { status: string; failure: { class: string; retryable: boolean } };
    expect(parsed.status).toBe('failed');
    expect(parsed.failure).toMatchObject({ class: 'unsupported-operator', retryable: false });
  });

  it('exits 1 with a clear message for an unreadable file or a non-trtexec file', async () => {
    const a = capture();
    expect(await runTrtexecParse('/nonexistent/build.log', {}, a.io)).toBe(1);
    expect(a.err[0]).toMatch(/^modelship: cannot read trtexec log "\/nonexistent\/build.log" \(ENOENT\)/);
    const b = capture();
    expect(await runTrtexecParse(`${FIXTURE_DIR}SOURCES.md`, {}, b.io)).toBe(1);
    expect(b.err[0]).toMatch(/is not a trtexec log/);
  });

  it('registers `trtexec parse <log> [--json]`', () => {
    const program = new Command('modelship');
    registerTrtexecCommand(program);
    const trtexec = program.commands.find((c) => c.name() === 'trtexec')!;
    const parse = trtexec.commands.find((c) => c.name() === 'parse')!;
    expect(parse.registeredArguments.map((a) => a.name())).toEqual(['log']);
    expect(parse.options.map((o) => o.long)).toEqual(['--json']);
  });
});
