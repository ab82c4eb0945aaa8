import { describe, expect, it } from 'vitest';
import { UserError } from '../../lib/errors.ts';
import { assertRepoLocation, assertTagName, redactCredentials, tagNameProblem } from '../../lib/git-refs.ts';

describe('tag names', () => {
  it.each(['v1.0.0', 'v1.0.0-rc.1', 'model/v2', 'release_2026-11-30', 'v1.1.0-ladder'])('accepts %s', (tag) => {
    expect(tagNameProblem(tag)).toBeNull();
  });

  it.each([
    'v1.0.0^0',
    'v1.0.0~0',
    'v1.0.0^{}',
    'v2.0.0~1',
    'HEAD@{1}',
    '@',
    '-v1',
    '',
    'a..b',
    'a b',
    'v1\n',
    'v1:x',
    'v*',
    'v?',
    'v[1]',
    'v\\1',
    '/v1',
    'v1/',
    'a//b',
    'v1.',
    '.hidden',
    'a/.b',
    'v1.lock',
    'x'.repeat(201),
  ])('refuses %j with a reason and names --tag', (tag) => {
    expect(tagNameProblem(tag)).not.toBeNull();
    expect(() => assertTagName(tag)).toThrow(UserError);
    expect(() => assertTagName(tag)).toThrow(/^--tag /);
  });
});

describe('repository locations', () => {
  it.each(['/srv/models/digits', './digits', 'file:///srv/models/digits', 'https://github.com/org/model.git', 'ssh://git@github.com/org/model.git', 'git@github.com:org/model.git'])(
    'accepts %s',
    (repo) => expect(() => assertRepoLocation(repo)).not.toThrow(),
  );

  it.each([
    ['--upload-pack=touch /tmp/pwned', /starts with "-"/],
    ['-c core.sshCommand=x', /starts with "-"/],
    ['ext::sh -c touch% /tmp/pwned', /remote helper/],
    ['fd::3', /remote helper/],
    ['http://example.com/model.git', /only over file, https, ssh/],
    ['ftp://example.com/model.git', /only over/],
    ['https://user:TOKEN123@github.com/org/model.git', /holds credentials/],
    ['https://TOKEN123@github.com/org/model.git', /holds credentials/],
    ['ssh://git:TOKEN123@github.com/org/model.git', /holds credentials/],
    ['', /is empty/],
    ['repo\u0000', /control character/],
  ])('refuses %j', (repo, why) => {
    expect(() => assertRepoLocation(repo)).toThrow(why);
    try {
      assertRepoLocation(repo);
    } catch (e) {
      expect((e as Error).message).not.toContain('TOKEN123');
    }
  });

  it('redacts credentials from any text', () => {
    expect(redactCredentials('git clone https://user:TOKEN@host/x failed; see https://a:b@c/d')).toBe('git clone https://***@host/x failed; see https://***@c/d');
    expect(redactCredentials('ssh://git@github.com/o/r')).toBe('ssh://***@github.com/o/r');
  });
});
