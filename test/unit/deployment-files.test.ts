/**
 * The deployment files (docker/compose.cluster.yaml, deploy/) cannot be run here (no Docker engine,
 * no Kubernetes), so they are checked against the code they must agree with: the Temporal server
 * version the tests run, the dynamic configuration the tested cluster gets, modelship's search
 * attributes, and the settings modelship reads.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { PROJECT_ROOT } from '../../activities/toolkit.ts';
import { CONFIG_VARIABLES } from '../../lib/config.ts';
import { SEARCH_ATTRIBUTES } from '../../lib/search-attributes.ts';
import { renderDynamicConfig, REQUIRED_DYNAMIC_CONFIG } from '../../workers/temporal-cluster/server-config.ts';

const read = (file: string) => readFileSync(join(PROJECT_ROOT, file), 'utf8');
const SERVER_VERSION = read('scripts/temporal-server/install.sh').match(/^VERSION="v([0-9.]+)"/m)![1]!;
const compose = parse(read('docker/compose.cluster.yaml'), { merge: true }) as { services: Record<string, { image?: string; environment?: Record<string, string> }> };
const helm = parse(read('deploy/helm/temporal-values.yaml')) as { server: { image: { tag: string }; dynamicConfig: Record<string, unknown> } };
const k8s = parseAllDocuments(read('deploy/k8s/modelship.yaml')).map((d) => d.toJS() as { kind: string; metadata: { name: string }; data?: Record<string, string> });

/** Every variable a file sets that looks like one of modelship's. */
function modelshipVariables(text: string): string[] {
  return [...new Set([...text.matchAll(/\b((?:MODELSHIP|TEMPORAL)_[A-Z_]+)\s*:/g)].map((m) => m[1]!))];
}

describe('deployment files', () => {
  it('run the Temporal server version the tests build and run', () => {
    expect(SERVER_VERSION).toMatch(/^1\.\d+\.\d+$/);
    expect(compose.services['temporal-frontend']!.image).toBe(`temporalio/server:${SERVER_VERSION}`);
    expect(compose.services['temporal-schema']!.image).toBe(`temporalio/admin-tools:${SERVER_VERSION}`);
    expect(helm.server.image.tag).toBe(SERVER_VERSION);
  });

  it('give the cluster the dynamic configuration the tested cluster gets (production: the required part)', () => {
    const tested = Object.keys(parse(renderDynamicConfig()) as object).sort();
    expect(tested).toEqual(expect.arrayContaining([...REQUIRED_DYNAMIC_CONFIG]));
    expect(Object.keys(parse(read('docker/temporal-dynamicconfig.yaml')) as object).sort()).toEqual(tested);
    expect(Object.keys(helm.server.dynamicConfig).sort()).toEqual([...REQUIRED_DYNAMIC_CONFIG].sort());
  });

  it('register every search attribute releases set', () => {
    for (const name of Object.keys(SEARCH_ATTRIBUTES)) {
      expect(read('docker/compose.cluster.yaml')).toContain(name);
      expect(read('deploy/helm/temporal-values.yaml')).toContain(name);
    }
  });

  it('set only settings modelship reads', () => {
    const known = new Set<string>(Object.values(CONFIG_VARIABLES));
    for (const file of ['docker/compose.cluster.yaml', 'deploy/k8s/modelship.yaml']) {
      const unknown = modelshipVariables(read(file)).filter((v) => !known.has(v));
      expect(unknown, `${file} sets variables modelship does not read`).toEqual([]);
    }
    const config = k8s.find((d) => d.kind === 'ConfigMap')!.data!;
    expect(config.MODELSHIP_RUNTIME_URL).toBe('http://modelship-runtime:8100');
    expect(k8s.map((d) => d.metadata.name)).toContain('modelship-runtime');
  });
});
