import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { renderServerConfig, TEMPORAL_SERVICES } from '../../workers/temporal-cluster/server-config.ts';

const ports = Object.fromEntries(TEMPORAL_SERVICES.map((s, i) => [s, { grpc: 7433 + i, membership: 7533 + i }])) as Parameters<typeof renderServerConfig>[0]['ports'];

describe('the Temporal server configuration of the PostgreSQL cluster', () => {
  const config = parse(renderServerConfig({ postgres: { host: '127.0.0.1', port: 7733, user: 'temporal', password: 'pw' }, ports, metricsPort: 7634, dynamicConfigFile: '/tmp/dc.yaml' }));

  it('keeps the default store and visibility on postgres12 (advanced visibility in SQL), in two databases', () => {
    const stores = config.persistence.datastores;
    expect(stores[config.persistence.defaultStore].sql).toMatchObject({ pluginName: 'postgres12', databaseName: 'temporal', connectAddr: '127.0.0.1:7733', user: 'temporal' });
    expect(stores[config.persistence.visibilityStore].sql).toMatchObject({ pluginName: 'postgres12', databaseName: 'temporal_visibility' });
  });

  it('gives each service its own ports, so each runs as its own process, and the frontend the cluster address', () => {
    const used = TEMPORAL_SERVICES.flatMap((s) => [config.services[s].rpc.grpcPort, config.services[s].rpc.membershipPort]);
    expect(new Set(used).size).toBe(8);
    expect(config.clusterMetadata.clusterInformation.active.rpcAddress).toBe('127.0.0.1:7433');
    expect(config.global.metrics.prometheus.listenAddress).toBe('127.0.0.1:7634');
    expect(config.dynamicConfigClient.filepath).toBe('/tmp/dc.yaml');
  });
});
