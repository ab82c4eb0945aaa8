import { describe, expect, it } from 'vitest';
import { githubSignature, verifyGithubSignature, verifyGitlabToken } from '../../../triggers/webhook/signatures.ts';

describe('GitHub signatures', () => {
  // The example of GitHub's "Validating webhook deliveries" page.
  const secret = "It's a Secret to Everybody";
  const body = Buffer.from('Hello, World!');
  const documented = 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17';

  it('match the documented test vector', () => {
    expect(githubSignature(secret, body)).toBe(documented);
    expect(verifyGithubSignature(secret, body, documented)).toBe(true);
  });

  it('refuse a changed body, a wrong secret, another algorithm, a cut or missing header', () => {
    expect(verifyGithubSignature(secret, Buffer.from('Hello, World?'), documented)).toBe(false);
    expect(verifyGithubSignature('another secret', body, documented)).toBe(false);
    expect(verifyGithubSignature(secret, body, 'sha1=01dc10d0c83e72ed246219cdd91669667fe2ca59')).toBe(false);
    expect(verifyGithubSignature(secret, body, documented.slice(0, -1))).toBe(false);
    expect(verifyGithubSignature(secret, body, documented.toUpperCase())).toBe(false);
    expect(verifyGithubSignature(secret, body, undefined)).toBe(false);
    expect(verifyGithubSignature(secret, body, '')).toBe(false);
  });
});

describe('GitLab tokens', () => {
  it('match only the same token, whatever the length given', () => {
    expect(verifyGitlabToken('s3cret-token', 's3cret-token')).toBe(true);
    expect(verifyGitlabToken('s3cret-token', 's3cret-toke')).toBe(false);
    expect(verifyGitlabToken('s3cret-token', 's3cret-token ')).toBe(false);
    expect(verifyGitlabToken('s3cret-token', 'x'.repeat(10_000))).toBe(false);
    expect(verifyGitlabToken('s3cret-token', undefined)).toBe(false);
  });
});
