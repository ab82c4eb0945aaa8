/**
 * How `runToolkit` maps what the toolkit process did (exit code, result file, stdout, stderr) to
 * what an activity sees. The process is a real Python process: a stand-in `modelship_toolkit`
 * package on PYTHONPATH whose `__main__` does what the scenario in its environment says.
 */
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { defaultToolkitConfig, runToolkit, ToolkitGateFailure, type ToolkitConfig } from '../../activities/toolkit.ts';
import type { ProgressEvent } from '../../lib/toolkit-contract.ts';

const FAKE_MAIN = `
import json, os, sys
args = sys.argv[1:]
result = args[args.index("--result") + 1]
scenario = os.environ["FAKE_SCENARIO"]
def write(obj):
    with open(result, "w") as f:
        json.dump(obj, f)
if scenario == "ok":
    print(json.dumps({"event": "progress", "step": "data", "done": 1, "total": 2}), flush=True)
    print("a line that is not an event", flush=True)
    print(json.dumps({"event": "progress", "step": "data", "done": 2, "total": 2}), flush=True)
    write({"files": [{"field": "parity.data", "path": "data/heldout.npz", "samples": 3, "arrays": {"x": [3, 4]}}]})
    sys.exit(0)
if scenario == "breaks-contract":
    write({"files": "not a list"})
    sys.exit(0)
if scenario == "gate":
    write({"files": []})
    sys.exit(3)
if scenario == "bad-input":
    write({"error": {"type": "BadInput", "message": "has 3 dims, expected 4", "field": "inputs.image", "hint": "see the manifest's dims"}})
    sys.exit(2)
if scenario == "bad-input-unwritten":
    sys.stderr.write("usage: modelship_toolkit data --request R --result R\\n")
    sys.exit(2)
sys.stderr.write("Traceback (most recent call last):\\nRuntimeError: the engine fell over\\n")
sys.exit(1)
`;

function fakeToolkit(): ToolkitConfig {
  const dir = mkdtempSync(join(tmpdir(), 'modelship-fake-toolkit-'));
  mkdirSync(join(dir, 'modelship_toolkit'));
  writeFileSync(join(dir, 'modelship_toolkit', '__init__.py'), '');
  writeFileSync(join(dir, 'modelship_toolkit', '__main__.py'), FAKE_MAIN);
  return { ...defaultToolkitConfig(join(dir, 'scratch')), toolkitDir: dir };
}

const config = fakeToolkit();
const request = { repoDir: '/nowhere', manifest: {}, files: [] } as never;
const run = (scenario: string, onProgress?: (e: ProgressEvent) => void) =>
  runToolkit(config, 'data', request, { env: { FAKE_SCENARIO: scenario }, onProgress });

async function failure(scenario: string): Promise<unknown> {
  return run(scenario).then(
    () => expect.unreachable('the call should have failed'),
    (err: unknown) => err,
  );
}

describe('runToolkit', () => {
  it('returns the validated result of exit 0 and passes on progress lines, ignoring other stdout', async () => {
    const events: ProgressEvent[] = [];
    const result = await run('ok', (e) => events.push(e));
    expect(result.files[0]).toMatchObject({ field: 'parity.data', samples: 3 });
    expect(events.map((e) => e.done)).toEqual([1, 2]);
  });

  it('treats a result that breaks the contract as a retryable infrastructure failure naming the path', async () => {
    const err = await failure('breaks-contract');
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect((err as ApplicationFailure).nonRetryable).toBe(false);
    expect((err as ApplicationFailure).message).toMatch(/breaks the contract: files:/);
  });

  it('turns exit 3 into a gate failure carrying the report', async () => {
    const err = await failure('gate');
    expect(err).toBeInstanceOf(ToolkitGateFailure);
    expect((err as ToolkitGateFailure<'data'>).report).toEqual({ files: [] });
  });

  it('turns exit 2 into a non-retryable BadInput naming the field and the hint', async () => {
    const err = (await failure('bad-input')) as ApplicationFailure;
    expect(err.nonRetryable).toBe(true);
    expect(err.type).toBe('BadInput');
    expect(err.message).toBe("inputs.image: has 3 dims, expected 4 (see the manifest's dims)");
  });

  it('falls back to stderr for exit 2 without a result file', async () => {
    const err = (await failure('bad-input-unwritten')) as ApplicationFailure;
    expect(err.nonRetryable).toBe(true);
    expect(err.message).toContain('usage: modelship_toolkit data');
  });

  it('makes any other exit a retryable failure with the end of stderr', async () => {
    const err = (await failure('crash')) as ApplicationFailure;
    expect(err.nonRetryable).toBe(false);
    expect(err.message).toMatch(/toolkit data exited with 1: .*RuntimeError: the engine fell over/s);
  });
});
