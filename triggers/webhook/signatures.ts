/**
 * Who may start a release by webhook: GitHub signs each delivery's body with the shared secret
 * (`X-Hub-Signature-256: sha256=<hex HMAC-SHA256>`), GitLab sends the shared token as it is
 * (`X-Gitlab-Token`). Both are compared in constant time, and before the body is parsed.
 *
 * @module
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** The `X-Hub-Signature-256` value GitHub would send for `body` signed with `secret`. */
export function githubSignature(secret: string, body: Uint8Array): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/**
 * True when `header` is GitHub's signature of `body` with `secret`. A missing header, another
 * algorithm (`sha1=`), or a value of another length is false, never an exception.
 */
export function verifyGithubSignature(secret: string, body: Uint8Array, header: string | undefined): boolean {
  if (!header || !header.startsWith('sha256=')) return false;
  const expected = Buffer.from(githubSignature(secret, body));
  const given = Buffer.from(header);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * True when `header` is the GitLab token. Both sides are hashed first, so the comparison takes the
 * same time whatever the given token's length.
 */
export function verifyGitlabToken(token: string, header: string | undefined): boolean {
  if (!header) return false;
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(header), digest(token));
}
