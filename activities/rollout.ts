/**
 * Steps 7–10 against the serving runtime: stage a package on the serving host, load variants,
 * move traffic, promote, roll back, verify what really serves, and keep every decision record
 * beside the package.
 *
 * @module
 */
import type { ModelshipConfig } from '../lib/config.ts';
import { access, copyFile, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { packageFiles } from '../lib/package-files.ts';
import { parsePackageMetadataCore } from '../lib/package-metadata.ts';
import type { DecisionRecord } from '../lib/rollout.ts';
import type { PackagedEngine } from '../lib/release.ts';
import type { ActivityDeps } from './deps.ts';
import { withFailures } from './failures.ts';
import { RuntimeAdminClient, type RuntimeEndpoint, type RuntimeState } from './runtime/admin-client.ts';
import { fleetVerdict, type FleetCompatibility } from './tensorrt/compat.ts';
import { senderIdentity, type SenderQuery } from './sender-identity.ts';

/** Dependencies of the rollout activities. */
export interface RolloutDeps extends ActivityDeps {
  runtime: RuntimeEndpoint;
}

/** What the runtime serves, in short. */
export interface ServingSnapshot {
  stableVersion?: string;
  candidateVersion?: string;
  shadowVersion?: string;
  weights: RuntimeState['weights'];
  fallback: boolean;
}

function snapshot(state: RuntimeState): ServingSnapshot {
  return {
    stableVersion: state.variants.stable?.version,
    candidateVersion: state.variants.candidate?.version,
    shadowVersion: state.variants.shadow?.version,
    weights: state.weights,
    fallback: [state.variants.stable, state.variants.candidate, state.variants.shadow, state.variants.previous].some((v) => v?.fallback),
  };
}

/** Builds the rollout activities. */
export function createRolloutActivities({ workspace, runtime }: RolloutDeps) {
  const admin = new RuntimeAdminClient(runtime);

  return {
    /** What the runtime serves now (is there a stable version to compare against?). */
    async inspectRuntime(input?: { model?: string }): Promise<ServingSnapshot> {
      return withFailures(async () => snapshot(await admin.state(input?.model)));
    },

    /**
     * Copies a package from the artifact store to the serving host, verifying every file against
     * metadata.json's digests; returns the local folder. Done once per package.
     */
    async stagePackage(input: { model: string; tag: string; package: PackagedEngine }): Promise<string> {
      return withFailures(async () => {
        const dir = join(workspace.root, 'serving', input.model, input.tag, `${input.package.target}-${input.package.precision}`);
        const marker = join(dir, '.modelship-staged');
        if (await access(marker).then(() => true, () => false)) return dir;
        const staging = `${dir}.staging`;
        await rm(staging, { recursive: true, force: true });
        await mkdir(staging, { recursive: true });
        const metadataPath = await workspace.fetch(input.package.metadata);
        const files = packageFiles(JSON.parse(await readFile(metadataPath, 'utf8')), `metadata.json of ${input.package.uri}`);
        for (const [name, digest] of Object.entries(files)) {
          const local = await workspace.fetch({ uri: `${input.package.uri}/${name}`, ...digest });
          await copyFile(local, join(staging, name));
        }
        await copyFile(metadataPath, join(staging, 'metadata.json'));
        await writeFile(join(staging, '.modelship-staged'), input.package.metadata.sha256);
        await rm(dir, { recursive: true, force: true });
        await rename(staging, dir);
        return dir;
      });
    },

    /**
     * The compatibility lock before any traffic moves: each serving host is asked whether it can
     * run the package (backend, TensorRT release, GPU architecture); the rule is the runtime's.
     */
    async checkFleet(input: { package: PackagedEngine }): Promise<FleetCompatibility> {
      return withFailures(async () => {
        const metadata = parsePackageMetadataCore(JSON.parse(await readFile(await workspace.fetch(input.package.metadata), 'utf8')), `metadata.json of ${input.package.uri}`);
        return fleetVerdict(metadata.backend, [await admin.fits(metadata)]);
      });
    },

    /** Loads a staged package into a variant (the runtime checks sha256 and host fit). */
    async loadVariant(input: { variant: 'stable' | 'candidate' | 'shadow'; dir: string; model?: string }): Promise<ServingSnapshot> {
      return withFailures(async () => {
        await admin.load(input.variant, input.dir, input.model);
        return snapshot(await admin.state(input.model));
      });
    },

    /** Sets the model's candidate weight and shadow share, in percent. */
    async setTraffic(input: { candidate?: number; shadow?: number; model?: string }): Promise<ServingSnapshot> {
      const { model, ...weights } = input;
      return withFailures(async () => {
        await admin.setWeights(weights, model);
        return snapshot(await admin.state(model));
      });
    },

    /** The candidate becomes stable. Idempotent: a retry after success finds it done. */
    async promoteCandidate(input: { version: string; model?: string }): Promise<ServingSnapshot> {
      return withFailures(async () => {
        const before = snapshot(await admin.state(input.model));
        if (before.stableVersion === input.version && !before.candidateVersion) return before;
        await admin.promote(input.model);
        return snapshot(await admin.state(input.model));
      });
    },

    /** Candidate and shadow out at once; stable keeps serving. Idempotent. */
    async rollbackRuntime(input?: { model?: string }): Promise<ServingSnapshot> {
      return withFailures(async () => {
        const before = snapshot(await admin.state(input?.model));
        if (!before.candidateVersion && !before.shadowVersion) return before;
        await admin.rollback(input?.model);
        return snapshot(await admin.state(input?.model));
      });
    },

    /** Reads what really serves, and whether the runtime answers ready. */
    async verifyServing(input?: { model?: string }): Promise<ServingSnapshot & { ready: boolean }> {
      return withFailures(async () => {
        const state = snapshot(await admin.state(input?.model));
        const path = input?.model ? `/v2/models/${encodeURIComponent(input.model)}/ready` : '/v2/health/ready';
        const ready = await fetch(new URL(path, runtime.url)).then((r) => r.ok, () => false);
        return { ...state, ready };
      });
    },

    /** Keeps a decision record beside the package, once per sequence number. */
    /** The Temporal client identity recorded with an approval's Update or Signal (see sender-identity.ts). */
    async senderIdentity(query: SenderQuery): Promise<string | null> {
      return senderIdentity(query);
    },

    async keepDecision(input: { model: string; tag: string; record: DecisionRecord }): Promise<string> {
      return withFailures(async () => {
        const key = ['packages', input.model, input.tag, 'decisions', `${String(input.record.seq).padStart(3, '0')}-${input.record.kind}.json`].join('/');
        const ref = await workspace.store.putBytes(key, `${JSON.stringify(input.record, null, 2)}\n`);
        return ref.uri;
      });
    },
  };
}

/** The runtime endpoint from the configuration: `MODELSHIP_RUNTIME_URL`, then the token or its file (default `<home>/runtime/admin.token`). */
export async function runtimeEndpointFromConfig(config: Pick<ModelshipConfig, 'runtimeUrl' | 'adminToken' | 'adminTokenFile'>): Promise<RuntimeEndpoint> {
  const token = config.adminToken ?? (await readFile(config.adminTokenFile, 'utf8').then((t) => t.trim(), () => ''));
  return { url: config.runtimeUrl, token };
}
