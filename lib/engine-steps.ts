/**
 * Steps 3–5 as every backend does them: build an engine, check its parity against PyTorch,
 * benchmark it. activities/engine.ts picks the backend's {@link EngineSteps}
 * (`activities/onnxruntime/steps.ts`, `activities/tensorrt/steps.ts`) and does what is common:
 * keeping the reports and saying what happened.
 *
 * @module
 */
import type { ArtifactRef } from './artifact-ref.ts';
import type { Precision, TargetSpec } from './manifest.ts';
import type { ExportedModel, ResolvedSource } from './release.ts';
import type { BenchReport, ParityReport } from './toolkit-contract.ts';

/** Input shared by the engine steps. */
export interface EngineStepInput {
  releaseId: string;
  target: TargetSpec;
  precision: Precision;
  source: ResolvedSource;
  exported: ExportedModel;
}

/** An engine step's input once the engine exists. */
export type BuiltEngineInput = EngineStepInput & { engine: ArtifactRef };

/** A built engine, by reference. */
export interface BuiltEngine {
  engine: ArtifactRef;
  buildReport: ArtifactRef;
  buildLog: ArtifactRef;
  summary: string;
}

/** One backend's steps 3–5 on this worker. */
export interface EngineSteps {
  /** Step 3: the engine (kept under `prefix` in the store), its build report and log. */
  build(input: EngineStepInput, prefix: string): Promise<BuiltEngine>;
  /** Step 4: the parity report, a failing verdict included (the workflow decides). */
  parity(input: BuiltEngineInput): Promise<ParityReport>;
  /** Step 5: the benchmark report; `outDir` is this step's local folder. */
  bench(input: BuiltEngineInput, outDir: string): Promise<BenchReport>;
}
