import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES, loadConfig, PROJECT_ROOT } from '../../lib/config.ts';
import { resolveHost } from '../../workers/worker-host.ts';

describe('configuration', () => {
  it('has a default for everything a fresh machine needs', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      home: '.modelship',
      artifacts: join('.modelship', 'artifacts'),
      python: join(PROJECT_ROOT, '.venv', 'bin', 'python'),
      runtimeUrl: 'http://127.0.0.1:8100',
      adminTokenFile: join('.modelship', 'runtime', 'admin.token'),
      trtexec: 'trtexec',
      workerId: hostname(),
      logLevel: 'WARN',
      uiUrl: 'http://localhost:8233',
      temporalAddress: '127.0.0.1:7233',
      namespace: 'default',
    });
    expect(c.prometheusUrl).toBeUndefined();
    expect(c.adminToken).toBeUndefined();
  });

  it('reads each variable; what depends on the home follows it unless set itself', () => {
    const c = loadConfig({ MODELSHIP_HOME: '/srv/ms', MODELSHIP_LOG_LEVEL: 'DEBUG', MODELSHIP_PROMETHEUS_URL: 'http://prom:9090', TEMPORAL_NAMESPACE: 'ml', MODELSHIP_WORKER_ID: 'gpu-07' });
    expect(c).toMatchObject({ home: '/srv/ms', artifacts: '/srv/ms/artifacts', adminTokenFile: '/srv/ms/runtime/admin.token', logLevel: 'DEBUG', prometheusUrl: 'http://prom:9090', namespace: 'ml', workerId: 'gpu-07' });
    expect(loadConfig({ MODELSHIP_HOME: '/srv/ms', MODELSHIP_ARTIFACTS: 's3://b/p' }).artifacts).toBe('s3://b/p');
    // An empty variable counts as unset.
    expect(loadConfig({ MODELSHIP_HOME: '' }).home).toBe('.modelship');
  });

  it('refuses wrong values, naming every variable at once', () => {
    const wrong = () => loadConfig({ MODELSHIP_LOG_LEVEL: 'loud', MODELSHIP_RUNTIME_URL: 'ftp://runtime', MODELSHIP_PROMETHEUS_URL: 'not a url', MODELSHIP_WORKER_ID: 'a b' });
    expect(wrong).toThrow(/MODELSHIP_LOG_LEVEL="loud": expected one of TRACE, DEBUG, INFO, WARN, ERROR/);
    expect(wrong).toThrow(/MODELSHIP_RUNTIME_URL="ftp:\/\/runtime": expected an http\(s\) URL/);
    expect(wrong).toThrow(/MODELSHIP_PROMETHEUS_URL="not a url"/);
    expect(wrong).toThrow(/MODELSHIP_WORKER_ID="a b": .*no spaces or @/);
  });

  it('settings given in code win, and the home-relative defaults follow them', () => {
    const c = loadConfig({ MODELSHIP_HOME: '/env-home' }, { home: '/code-home', workerId: undefined });
    expect([c.home, c.artifacts, c.adminTokenFile]).toEqual(['/code-home', '/code-home/artifacts', '/code-home/runtime/admin.token']);
    expect(loadConfig({ MODELSHIP_ADMIN_TOKEN_FILE: '/etc/token' }, { home: '/h' }).adminTokenFile).toBe('/etc/token');
  });

  it('names each variable once', () => {
    const names = Object.values(CONFIG_VARIABLES);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toContain('MODELSHIP_HOME');
  });

  it("gives both worker entry points the same host: the setup's home, store and name first", () => {
    const h = resolveHost({ home: '/tmp/ms-host-test', workerId: 'w1' }, { MODELSHIP_HOME: '/elsewhere', MODELSHIP_WORKER_ID: 'w0' });
    expect([h.home, h.workerId]).toEqual(['/tmp/ms-host-test', 'w1']);
    expect(h.workspace.store.uriFor('x')).toBe('file:///tmp/ms-host-test/artifacts/x');
    expect(resolveHost({}, { MODELSHIP_HOME: '/tmp/ms-env', MODELSHIP_WORKER_ID: 'w0' }).workerId).toBe('w0');
  });
});
