/**
 * The webhook receiver's configuration (`webhooks.yaml`): which repositories may start releases,
 * where modelship clones each from, which of their tags are releases, and where the shared secrets
 * are. The secrets live in files of their own (or the environment), never in this file.
 *
 * ```yaml
 * repositories:
 *   - name: acme/digits                              # GitHub full_name / GitLab path_with_namespace
 *     repo: https://github.com/acme/digits.git       # what modelship clones
 *     tags: ["v*"]                                   # default ["v*"]
 * github: { secretFile: github.secret }              # or $MODELSHIP_WEBHOOK_GITHUB_SECRET
 * gitlab: { tokenFile: gitlab.token }                # or $MODELSHIP_WEBHOOK_GITLAB_TOKEN
 * ```
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { loadConfig } from '../../lib/config.ts';
import { UserError } from '../../lib/errors.ts';
import { formatFieldPath } from '../../lib/field-path.ts';
import type { Provider } from './events.ts';

/** Largest body accepted by default: GitHub caps payloads at 25 MB, tag pushes are a few KB. */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

const TagPattern = z
  .string()
  .min(1, 'expected a pattern such as v* or model/*')
  .regex(/^[A-Za-z0-9._\-/*]+$/, 'expected letters, digits, . _ - / and * (any run of characters but /)');

const RepositorySchema = z
  .object({
    name: z.string().min(1, 'expected owner/name as the forge writes it (GitHub full_name, GitLab path_with_namespace)'),
    repo: z.string().min(1, 'expected the URL or path modelship clones'),
    tags: z.array(TagPattern).min(1).default(['v*']),
    provider: z.enum(['github', 'gitlab']).optional(),
  })
  .strict();

const WebhookConfigSchema = z
  .object({
    repositories: z.array(RepositorySchema).default([]),
    github: z.object({ secretFile: z.string().min(1) }).strict().optional(),
    gitlab: z.object({ tokenFile: z.string().min(1) }).strict().optional(),
    maxBodyBytes: z.number().int().min(1024).max(25 * 1024 * 1024).default(DEFAULT_MAX_BODY_BYTES),
    rollout: z.boolean().default(true),
  })
  .strict();

/** One allowed repository. */
export type WebhookRepository = z.infer<typeof RepositorySchema>;

/** The receiver's settings, with the secrets read. */
export interface WebhookConfig {
  repositories: WebhookRepository[];
  /** GitHub's shared secret; GitHub deliveries are refused without it. */
  githubSecret?: string;
  /** GitLab's shared token; GitLab deliveries are refused without it. */
  gitlabToken?: string;
  maxBodyBytes: number;
  /** Releases started by webhook go on to their rollout plan. */
  rollout: boolean;
  /** The file it came from (for messages), or `(defaults)`. */
  source: string;
}

function readSecret(file: string, base: string, field: string, source: string): string {
  const path = resolve(base, file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UserError(`${source}: ${field}: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 'write the shared secret into that file (one line)');
  }
  const secret = text.trim();
  if (!secret) throw new UserError(`${source}: ${field}: ${path} is empty`, 'write the shared secret into that file (one line)');
  return secret;
}

/**
 * Validates a parsed configuration; relative secret files are read from `base`.
 *
 * @throws {@link UserError} naming every wrong field
 */
export function webhookConfig(value: unknown, source: string, base: string, env: NodeJS.ProcessEnv = process.env): WebhookConfig {
  const r = WebhookConfigSchema.safeParse(value ?? {});
  if (!r.success) {
    const lines = r.error.issues.map((i) => `  ${formatFieldPath(i.path) || '(root)'}: ${i.message}`);
    throw new UserError(`${source} is not a valid webhook configuration:\n${lines.join('\n')}`, 'see the README, "Releases from tag webhooks"');
  }
  const c = r.data;
  const settings = loadConfig(env);
  const githubSecret = settings.webhookGithubSecret ?? (c.github ? readSecret(c.github.secretFile, base, 'github.secretFile', source) : undefined);
  const gitlabToken = settings.webhookGitlabToken ?? (c.gitlab ? readSecret(c.gitlab.tokenFile, base, 'gitlab.tokenFile', source) : undefined);
  return { repositories: c.repositories, githubSecret, gitlabToken, maxBodyBytes: c.maxBodyBytes, rollout: c.rollout, source };
}

/** Reads and validates `webhooks.yaml`. */
export function loadWebhookConfig(file: string, env: NodeJS.ProcessEnv = process.env): WebhookConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UserError(`cannot read the webhook configuration ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 'pass --config <webhooks.yaml>');
  }
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (err) {
    throw new UserError(`${file} is not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  return webhookConfig(value, file, dirname(resolve(file)), env);
}

/** `*` matches any run of characters but `/`; everything else matches itself. */
export function tagMatches(pattern: string, tag: string): boolean {
  const re = pattern.replace(/[.+?^${}()|[\]\\-]/g, '\\$&').replace(/\*/g, '[^/]*');
  return new RegExp(`^${re}$`).test(tag);
}

/** The allowed repository a delivery names, if any. */
export function findRepository(config: WebhookConfig, provider: Provider, name: string): WebhookRepository | undefined {
  return config.repositories.find((r) => r.name.toLowerCase() === name.toLowerCase() && (!r.provider || r.provider === provider));
}
