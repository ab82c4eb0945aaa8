/**
 * The Temporal server's configuration file for a cluster on PostgreSQL: the default store and
 * visibility both on the `postgres12` plugin (advanced visibility in SQL, so custom search
 * attributes work), each service on its own ports so it runs as its own process.
 *
 * @module
 */
import { stringify } from 'yaml';

/** The four server services, each run as a separate process. */
export const TEMPORAL_SERVICES = ['frontend', 'history', 'matching', 'worker'] as const;
/** One server service. */
export type TemporalService = (typeof TEMPORAL_SERVICES)[number];

/** Ports of one service. */
export interface ServicePorts {
  grpc: number;
  membership: number;
}

/** What the configuration file is made from. */
export interface ServerConfigInput {
  postgres: { host: string; port: number; user: string; password: string };
  ports: Record<TemporalService, ServicePorts>;
  /** Where this process serves its Prometheus metrics (one file per service process: they differ only here). */
  metricsPort: number;
  dynamicConfigFile: string;
  numHistoryShards?: number;
}

/** The databases the schemas are created in. */
export const DATABASES = { default: 'temporal', visibility: 'temporal_visibility' } as const;

/** Renders the server's YAML configuration. */
export function renderServerConfig(input: ServerConfigInput): string {
  const store = (databaseName: string, maxConns: number) => ({
    sql: {
      pluginName: 'postgres12',
      databaseName,
      connectAddr: `${input.postgres.host}:${input.postgres.port}`,
      connectProtocol: 'tcp',
      user: input.postgres.user,
      password: input.postgres.password,
      maxConns,
      maxIdleConns: maxConns,
      maxConnLifetime: '1h',
    },
  });
  const services = Object.fromEntries(
    TEMPORAL_SERVICES.map((name) => [name, { rpc: { grpcPort: input.ports[name].grpc, membershipPort: input.ports[name].membership, bindOnLocalHost: true } }]),
  );
  const config = {
    log: { stdout: true, level: 'warn' },
    persistence: {
      defaultStore: 'postgres-default',
      visibilityStore: 'postgres-visibility',
      numHistoryShards: input.numHistoryShards ?? 4,
      datastores: { 'postgres-default': store(DATABASES.default, 20), 'postgres-visibility': store(DATABASES.visibility, 10) },
    },
    global: {
      membership: { maxJoinDuration: '30s', broadcastAddress: '127.0.0.1' },
      metrics: { prometheus: { framework: 'tally', timerType: 'histogram', listenAddress: `127.0.0.1:${input.metricsPort}` } },
    },
    services,
    clusterMetadata: {
      enableGlobalNamespace: false,
      failoverVersionIncrement: 10,
      masterClusterName: 'active',
      currentClusterName: 'active',
      clusterInformation: { active: { enabled: true, initialFailoverVersion: 1, rpcName: 'frontend', rpcAddress: `127.0.0.1:${input.ports.frontend.grpc}` } },
    },
    dcRedirectionPolicy: { policy: 'noop' },
    archival: { history: { state: 'disabled' }, visibility: { state: 'disabled' } },
    namespaceDefaults: { archival: { history: { state: 'disabled' }, visibility: { state: 'disabled' } } },
    dynamicConfigClient: { filepath: input.dynamicConfigFile, pollInterval: '10s' },
  };
  return stringify(config);
}

/** Dynamic configuration every cluster modelship runs on needs: Updates (approvals) and Worker Versioning. */
export const REQUIRED_DYNAMIC_CONFIG = [
  'frontend.enableUpdateWorkflowExecution',
  'frontend.enableUpdateWorkflowExecutionAsyncAccepted',
  'frontend.workerVersioningWorkflowAPIs',
  'frontend.workerVersioningDataAPIs',
  'system.enableDeploymentVersions',
] as const;

/**
 * The dynamic configuration of the cluster the tests run: {@link REQUIRED_DYNAMIC_CONFIG}, and
 * search attributes read fresh so a release's attributes are visible as soon as they are set (a
 * test's convenience; production clusters leave the cache on).
 */
export function renderDynamicConfig(): string {
  const on = [{ value: true, constraints: {} }];
  return stringify(Object.fromEntries([...REQUIRED_DYNAMIC_CONFIG, 'system.forceSearchAttributesCacheRefreshOnRead'].map((key) => [key, on])));
}
