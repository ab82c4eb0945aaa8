/**
 * What a release workflow takes, tells and returns: its input, the stages it moves through, the
 * per-step status people see in the UI and the CLI, and the query that reads it.
 *
 * @module
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { ArtifactRef } from './artifact-ref.ts';
import type { Manifest, Precision, TargetSpec } from './manifest.ts';
import type { Check } from './toolkit-contract.ts';
import type { RolloutStatus } from './rollout.ts';

/** The stages of a release, in order; the value of the ReleaseStage search attribute. */
export const ReleaseStage = {
  Resolving: 'resolving',
  Exporting: 'exporting',
  Building: 'building',
  Packaging: 'packaging',
  Packaged: 'packaged',
  /** The rollout child runs; its own phases (shadow, canary, …) show on the child. */
  RollingOut: 'rolling-out',
  Promoted: 'promoted',
  RolledBack: 'rolled-back',
  Failed: 'failed',
} as const;
/** One of {@link ReleaseStage}. */
export type ReleaseStage = (typeof ReleaseStage)[keyof typeof ReleaseStage];

/** How to start a release. */
export interface ReleaseInput {
  /** Local path or git URL of the model repository. */
  repo: string;
  /** The git tag to release. */
  tag: string;
  /** Who asked (CLI user, webhook), for the records. */
  requestedBy?: string;
  /** Seconds a target queue may sit without a worker before the release says so. Default 300. */
  noWorkerTimeoutSeconds?: number;
  /** Go on to shadow/canary/promote when the manifest has a rollout plan. Default true. */
  rollout?: boolean;
}

/** The workflow ID of a model's release of a tag: one release per tag, ever. */
export function releaseWorkflowId(model: string, tag: string): string {
  return `release/${model}/${tag}`;
}

/** State of one step. */
export const StepState = { Pending: 'pending', Running: 'running', Done: 'done', Failed: 'failed' } as const;
/** One of {@link StepState}. */
export type StepState = (typeof StepState)[keyof typeof StepState];

/** One step of the release as shown in `release status` and the `status` query. */
export interface StepStatus {
  /** `resolve`, `export`, `build`, `parity`, `bench`, `package`. */
  step: string;
  target?: string;
  precision?: Precision;
  state: StepState;
  startedAt?: string;
  endedAt?: string;
  durationMs?: number;
  /** `pass`/`fail` for gates. */
  verdict?: 'pass' | 'fail';
  /** One line for people: the statistic, the engine size, the failure. */
  summary?: string;
}

/** What the source step found. */
export interface ResolvedSource {
  model: string;
  tag: string;
  commit: string;
  manifest: Manifest;
  /** `git archive` of the tagged commit. */
  source: ArtifactRef;
  checkpoint: ArtifactRef;
  metrics: Record<string, number>;
  checks: Check[];
}

/** What the export step produced. */
export interface ExportedModel {
  onnx: ArtifactRef;
  exporter: string;
  opsetWritten: number;
  report: ArtifactRef;
  watchList: { op: string; count: number; advice: string }[];
  /**
   * What the operator should read: what the toolkit changed so the model exported (fast paths off,
   * its own symbolics) and each watched operator's advice. Absent in releases recorded before.
   */
  notes?: string[];
}

/** One engine at one precision, validated and benchmarked on one worker. */
export interface EngineResult {
  target: string;
  backend: TargetSpec['backend'];
  precision: Precision;
  /** The worker host that built, checked and timed it. */
  workerId: string;
  engine: ArtifactRef;
  buildReport: ArtifactRef;
  buildLog: ArtifactRef;
  parity: ArtifactRef;
  parityVerdict: 'pass' | 'fail';
  bench?: ArtifactRef;
  /** A short line for people. */
  summary: string;
}

/** What a target's child workflow returns. */
export interface TargetResult {
  target: string;
  engines: EngineResult[];
}

/** Input of a target's child workflow. */
export interface TargetInput {
  releaseId: string;
  target: TargetSpec;
  source: ResolvedSource;
  exported: ExportedModel;
  noWorkerTimeoutSeconds: number;
}

/** One packaged engine. */
export interface PackagedEngine {
  target: string;
  precision: Precision;
  /** URI of the package folder. */
  uri: string;
  metadata: ArtifactRef;
}

/** What the release workflow returns and shows. */
export interface ReleaseStatus {
  releaseId: string;
  model?: string;
  tag: string;
  commit?: string;
  stage: ReleaseStage;
  steps: StepStatus[];
  packages: PackagedEngine[];
  /** Why the release stopped, when it did. */
  failure?: { step: string; type: string; message: string };
  /** The rollout's final state, when it ran. */
  rollout?: RolloutStatus;
  /** `targetStep` signals refused for a malformed payload (the last one's reason kept). */
  refusedSignals?: { count: number; last: string };
  /** The release report, written when the release ends (absent in releases recorded before it). */
  report?: ReleaseReport;
}

/** Where a release's report is: one self-contained HTML file and a Markdown summary. */
export interface ReleaseReport {
  html: ArtifactRef;
  markdown: ArtifactRef;
}

/** Reads a release's status: its stage and every step with timings and verdicts. */
export const statusQuery = defineQuery<ReleaseStatus>('status');

/** A target's child workflow telling its parent that one of its steps began or ended. */
export interface TargetStepEvent {
  phase: 'begin' | 'end';
  step: string;
  target: string;
  precision?: Precision;
  state?: 'done' | 'failed';
  verdict?: 'pass' | 'fail';
  summary?: string;
}

/** Sent by a target's child workflow to the release, so one status shows every step. */
export const targetStepSignal = defineSignal<[TargetStepEvent]>('targetStep');
