import { describe, expect, it } from 'vitest';
import { githubEvent, gitlabEvent, MalformedDelivery } from '../../../triggers/webhook/events.ts';
import { payload } from '../../fixtures/webhooks/deliver.ts';

describe('GitHub events', () => {
  it('a tag push names the repository, the tag, the sender and the commit', () => {
    expect(githubEvent('push', payload('github-push-tag'))).toEqual({
      kind: 'tag',
      provider: 'github',
      repository: 'acme/digits',
      tag: 'v1.0.0',
      sender: 'octocat',
      commit: '6113728f27ae82c7b1a177c8d03f9e96e0adf246',
    });
  });

  it('a tag create names the same tag (GitHub sends both for one push)', () => {
    expect(githubEvent('create', payload('github-create-tag'))).toMatchObject({ kind: 'tag', repository: 'acme/digits', tag: 'v1.0.0', sender: 'octocat' });
  });

  it('branch pushes, branch creates, deleted tags, other events are ignored with a reason; ping is a ping', () => {
    expect(githubEvent('push', payload('github-push-branch'))).toEqual({ kind: 'ignored', reason: 'push to refs/heads/main, not a tag' });
    expect(githubEvent('create', { ...payload('github-create-tag'), ref: 'feature', ref_type: 'branch' })).toMatchObject({ kind: 'ignored', reason: 'created a branch, not a tag' });
    const deleted = { ...payload('github-push-tag'), deleted: true, after: '0000000000000000000000000000000000000000' };
    expect(githubEvent('push', deleted)).toEqual({ kind: 'ignored', reason: 'tag v1.0.0 was deleted' });
    expect(githubEvent('issues', {})).toMatchObject({ kind: 'ignored' });
    expect(githubEvent('ping', payload('github-ping'))).toEqual({ kind: 'ping' });
  });

  it('a body that is not what its event promises names the field', () => {
    const noRepo = { ...payload('github-push-tag'), repository: undefined };
    expect(() => githubEvent('push', noRepo)).toThrow(MalformedDelivery);
    expect(() => githubEvent('push', noRepo)).toThrow(/field repository/);
    expect(() => githubEvent('create', { ...payload('github-create-tag'), sender: { login: 5 } })).toThrow(/field sender\.login/);
    expect(() => githubEvent('push', [])).toThrow(/push event/);
  });

  it('a tag that is not a tag name (a revision, an option) is refused', () => {
    expect(() => githubEvent('push', { ...payload('github-push-tag'), ref: 'refs/tags/v1.0.0^0' })).toThrow(/field ref: .* is not a tag name/);
    expect(() => githubEvent('create', { ...payload('github-create-tag'), ref: '--upload-pack=x' })).toThrow(/starts with "-"/);
  });
});

describe('GitLab events', () => {
  it('a Tag Push Hook names the project path, the tag, the user and the commit', () => {
    expect(gitlabEvent('Tag Push Hook', payload('gitlab-tag-push'))).toEqual({
      kind: 'tag',
      provider: 'gitlab',
      repository: 'ml/digits',
      tag: 'v1.0.0',
      sender: 'jsmith',
      commit: '82b3d5ae55f7080f1e6022629cdb57bfae7cccc7',
    });
  });

  it('a deleted tag and other hooks are ignored; a wrong body names the field', () => {
    const deleted = { ...payload('gitlab-tag-push'), after: '0000000000000000000000000000000000000000', checkout_sha: null };
    expect(gitlabEvent('Tag Push Hook', deleted)).toEqual({ kind: 'ignored', reason: 'tag v1.0.0 was deleted' });
    expect(gitlabEvent('Push Hook', {})).toMatchObject({ kind: 'ignored' });
    expect(() => gitlabEvent('Tag Push Hook', { ...payload('gitlab-tag-push'), object_kind: 'push' })).toThrow(/field object_kind/);
    expect(() => gitlabEvent('Tag Push Hook', { ...payload('gitlab-tag-push'), project: {} })).toThrow(/field project\.path_with_namespace/);
    expect(() => gitlabEvent('Tag Push Hook', { ...payload('gitlab-tag-push'), ref: 'refs/heads/main' })).toThrow(/field ref/);
  });
});
