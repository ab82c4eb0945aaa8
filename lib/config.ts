/**
 * modelship's settings from the environment, read in one place: every `MODELSHIP_*` variable (and
 * Temporal's `TEMPORAL_ADDRESS` / `TEMPORAL_NAMESPACE`) with its default, checked once — a wrong
 * value is refused naming the variable, instead of surfacing later as an odd failure.
 *
 * Flags and options given in code override these; these override the defaults. Not for workflow
 * code (it reads the environment).
 *
 * @module
 */
import { hostname } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { UserError } from './errors.ts';

/** The repository this code runs from (where `.venv` and `toolkit/` are). */
export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Levels of `MODELSHIP_LOG_LEVEL`, as the Temporal SDK names them. */
export const LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'] as const;

const url = z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' });
const nonEmpty = z.string().trim().min(1);

/** A Worker Deployment build ID (`MODELSHIP_BUILD_ID`, `worker --build-id`). */
export const BuildIdSchema = z.string().regex(/^[A-Za-z0-9._-]{1,255}$/, 'expected letters, digits, . _ - (a Worker Deployment build ID)');

/** Each setting: its variable, its schema, and (in the schema) its default. */
const VARIABLES = {
  home: ['MODELSHIP_HOME', nonEmpty.default('.modelship')],
  artifacts: ['MODELSHIP_ARTIFACTS', nonEmpty.optional()],
  python: ['MODELSHIP_PYTHON', nonEmpty.optional()],
  runtimeUrl: ['MODELSHIP_RUNTIME_URL', url.default('http://127.0.0.1:8100')],
  adminToken: ['MODELSHIP_ADMIN_TOKEN', nonEmpty.optional()],
  adminTokenFile: ['MODELSHIP_ADMIN_TOKEN_FILE', nonEmpty.optional()],
  prometheusUrl: ['MODELSHIP_PROMETHEUS_URL', url.optional()],
  prometheusBin: ['MODELSHIP_PROMETHEUS_BIN', nonEmpty.optional()],
  trtexec: ['MODELSHIP_TRTEXEC', nonEmpty.default('trtexec')],
  workerId: ['MODELSHIP_WORKER_ID', z.string().regex(/^[^\s@]{1,100}$/, 'expected at most 100 characters, no spaces or @ (it names the task queue <queue>@<id>)').optional()],
  logLevel: ['MODELSHIP_LOG_LEVEL', z.enum(LOG_LEVELS, { error: `expected one of ${LOG_LEVELS.join(', ')}` }).default('WARN')],
  temporalBin: ['MODELSHIP_TEMPORAL', nonEmpty.optional()],
  uiUrl: ['MODELSHIP_UI_URL', url.default('http://localhost:8233')],
  temporalAddress: ['TEMPORAL_ADDRESS', nonEmpty.default('127.0.0.1:7233')],
  namespace: ['TEMPORAL_NAMESPACE', nonEmpty.default('default')],
  webhookGithubSecret: ['MODELSHIP_WEBHOOK_GITHUB_SECRET', nonEmpty.optional()],
  webhookGitlabToken: ['MODELSHIP_WEBHOOK_GITLAB_TOKEN', nonEmpty.optional()],
  buildId: ['MODELSHIP_BUILD_ID', BuildIdSchema.optional()],
  deploymentName: ['MODELSHIP_DEPLOYMENT', z.string().regex(/^[A-Za-z0-9_-]{1,100}$/, 'expected letters, digits, _ - (a Worker Deployment name)').default('modelship')],
} as const;

type Variables = typeof VARIABLES;
/** The settings as read (defaults applied where the variable has one). */
export type EnvSettings = { -readonly [K in keyof Variables]: z.output<Variables[K][1]> };

/** The settings, with the defaults that depend on others filled in. */
export interface ModelshipConfig extends EnvSettings {
  /** `$MODELSHIP_ARTIFACTS`, default `<home>/artifacts`. */
  artifacts: string;
  /** `$MODELSHIP_PYTHON`, default the project's `.venv/bin/python`. */
  python: string;
  /** `$MODELSHIP_ADMIN_TOKEN_FILE`, default `<home>/runtime/admin.token`. */
  adminTokenFile: string;
  /** `$MODELSHIP_WORKER_ID`, default the host name. */
  workerId: string;
}

/** The environment variable behind each setting (for messages and docs). */
export const CONFIG_VARIABLES: { readonly [K in keyof Variables]: Variables[K][0] } = Object.fromEntries(
  Object.entries(VARIABLES).map(([k, [name]]) => [k, name]),
) as never;

/**
 * Reads the settings from `env`; `overrides` (what a process was given in code or by flags) win
 * over the environment, and the defaults that depend on others follow them (a home given here
 * moves the default store and token file under it).
 *
 * @throws {@link UserError} naming each variable whose value is wrong
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<EnvSettings> = {}): ModelshipConfig {
  const read: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [key, [name, schema]] of Object.entries(VARIABLES)) {
    const raw = env[name];
    const r = (schema as z.ZodType).safeParse(raw === '' ? undefined : raw);
    if (r.success) read[key] = r.data;
    else problems.push(`${name}=${JSON.stringify(String(raw).slice(0, 80))}: ${r.error.issues[0]!.message}`);
  }
  if (problems.length) throw new UserError(`the environment has wrong modelship settings:\n  ${problems.join('\n  ')}`, 'fix or unset these variables (the README lists each with its default)');
  const defined = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined));
  const s = { ...read, ...defined } as EnvSettings;
  return {
    ...s,
    artifacts: s.artifacts ?? join(s.home, 'artifacts'),
    python: s.python ?? join(PROJECT_ROOT, '.venv', 'bin', 'python'),
    adminTokenFile: s.adminTokenFile ?? join(s.home, 'runtime', 'admin.token'),
    workerId: s.workerId ?? hostname(),
  };
}
