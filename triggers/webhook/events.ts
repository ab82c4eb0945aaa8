/**
 * The deliveries that can start a release, read from the shapes GitHub and GitLab publish:
 * GitHub's `push` of `refs/tags/<tag>` and `create` with `ref_type: tag`, and GitLab's Tag Push
 * Hook (`object_kind: tag_push`). Anything else is answered, and starts nothing: branch pushes,
 * deleted tags, other events, GitHub's `ping`.
 *
 * @module
 */
import { z } from 'zod';
import { tagNameProblem } from '../../lib/git-refs.ts';

/** Where a delivery came from. */
export type Provider = 'github' | 'gitlab';

/** What one delivery asks for. */
export type WebhookEvent =
  /** A tag was created: release it when the repository and the tag are allowed. */
  | { kind: 'tag'; provider: Provider; repository: string; tag: string; sender: string; commit?: string }
  /** Nothing to do, and why (the answer says it, so a person reading the delivery log knows). */
  | { kind: 'ignored'; reason: string }
  /** GitHub's hello when a webhook is created. */
  | { kind: 'ping' };

/** A delivery whose body is not what its event promises; the message names the field. */
export class MalformedDelivery extends Error {
  override name = 'MalformedDelivery';
}

const ZERO_SHA = /^0+$/;
const TAG_REF = 'refs/tags/';

const GithubRepository = z.object({ full_name: z.string().min(1) });
const GithubSender = z.object({ login: z.string().min(1) });
const GithubPush = z.object({
  ref: z.string(),
  after: z.string().optional(),
  deleted: z.boolean().optional(),
  repository: GithubRepository,
  sender: GithubSender,
});
const GithubCreate = z.object({ ref: z.string(), ref_type: z.string(), repository: GithubRepository, sender: GithubSender });
const GitlabTagPush = z.object({
  object_kind: z.literal('tag_push'),
  ref: z.string(),
  after: z.string().optional(),
  checkout_sha: z.string().nullable().optional(),
  user_username: z.string().min(1),
  project: z.object({ path_with_namespace: z.string().min(1) }),
});

function parse<T>(schema: z.ZodType<T>, body: unknown, what: string): T {
  const r = schema.safeParse(body);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  throw new MalformedDelivery(`${what}: field ${issue.path.join('.') || '(body)'}: ${issue.message}`);
}

function tagEvent(provider: Provider, repository: string, tag: string, sender: string, commit?: string): WebhookEvent {
  const problem = tagNameProblem(tag);
  if (problem) throw new MalformedDelivery(`field ref: ${JSON.stringify(tag.slice(0, 100))} is not a tag name: ${problem}`);
  return { kind: 'tag', provider, repository, tag, sender, ...(commit && !ZERO_SHA.test(commit) ? { commit } : {}) };
}

/** Reads a GitHub delivery of event `event` (the `X-GitHub-Event` header). */
export function githubEvent(event: string, body: unknown): WebhookEvent {
  if (event === 'ping') return { kind: 'ping' };
  if (event === 'push') {
    const p = parse(GithubPush, body, 'push event');
    if (!p.ref.startsWith(TAG_REF)) return { kind: 'ignored', reason: `push to ${p.ref}, not a tag` };
    if (p.deleted || (p.after && ZERO_SHA.test(p.after))) return { kind: 'ignored', reason: `tag ${p.ref.slice(TAG_REF.length)} was deleted` };
    return tagEvent('github', p.repository.full_name, p.ref.slice(TAG_REF.length), p.sender.login, p.after);
  }
  if (event === 'create') {
    const c = parse(GithubCreate, body, 'create event');
    if (c.ref_type !== 'tag') return { kind: 'ignored', reason: `created a ${c.ref_type}, not a tag` };
    return tagEvent('github', c.repository.full_name, c.ref, c.sender.login);
  }
  return { kind: 'ignored', reason: `event ${JSON.stringify(event.slice(0, 60))} does not start releases (send push or create)` };
}

/** Reads a GitLab delivery of event `event` (the `X-Gitlab-Event` header). */
export function gitlabEvent(event: string, body: unknown): WebhookEvent {
  if (event !== 'Tag Push Hook') return { kind: 'ignored', reason: `event ${JSON.stringify(event.slice(0, 60))} does not start releases (turn on "Tag push events")` };
  const t = parse(GitlabTagPush, body, 'Tag Push Hook');
  if (!t.ref.startsWith(TAG_REF)) throw new MalformedDelivery(`field ref: ${JSON.stringify(t.ref.slice(0, 100))} is not refs/tags/<tag>`);
  if ((t.after && ZERO_SHA.test(t.after)) || t.checkout_sha === null) return { kind: 'ignored', reason: `tag ${t.ref.slice(TAG_REF.length)} was deleted` };
  return tagEvent('gitlab', t.project.path_with_namespace, t.ref.slice(TAG_REF.length), t.user_username, t.checkout_sha ?? t.after);
}
