/**
 * The S3 store when things go wrong, against a real server (versitygw): the server away for a
 * while and back, missing or wrong credentials, a missing bucket, an unreachable endpoint.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../../../lib/errors.ts';
import { openArtifactStore } from '../../../activities/store/open-store.ts';
import { S3UnreachableError } from '../../../activities/store/s3-errors.ts';
import { S3ArtifactStore } from '../../../activities/store/s3-store.ts';
import { isolateAwsEnv, startS3Server, type S3TestServer } from './s3-server.ts';

describe('S3ArtifactStore faults', () => {
  let server: S3TestServer;
  const stores: S3ArtifactStore[] = [];
  const open = (uri: string, maxAttempts?: number): S3ArtifactStore => {
    const store = maxAttempts ? new S3ArtifactStore(uri, { settings: { maxAttempts } }) : (openArtifactStore(uri) as S3ArtifactStore);
    stores.push(store);
    return store;
  };

  beforeAll(async () => {
    isolateAwsEnv();
    server = await startS3Server();
    Object.assign(process.env, server.env());
  });

  afterAll(async () => {
    for (const store of stores) store.close();
    await server?.dispose();
  });

  it('rides out the server being down, retrying until it is back on the same port', async () => {
    const store = open(`s3://${server.bucket}/outage`, 20);
    const before = await store.putBytes('a.txt', 'before the outage');
    await server.stop();
    const started = Date.now();
    const put = store.putBytes('b.txt', 'during the outage');
    const stat = store.stat('a.txt');
    await new Promise((r) => setTimeout(r, 1_500));
    await server.start();
    await expect(put).resolves.toMatchObject({ uri: `s3://${server.bucket}/outage/b.txt` });
    await expect(stat).resolves.toEqual({ key: 'a.txt', bytes: before.bytes, sha256: before.sha256 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_500);
  });

  it('names the endpoint when it stays unreachable', async () => {
    const store = open(`s3://${server.bucket}/outage`, 2);
    await server.stop();
    try {
      const error = await store.stat('a.txt').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(S3UnreachableError);
      expect((error as Error).message).toContain(server.endpoint);
      expect((error as Error).message).toContain('ECONNREFUSED');
    } finally {
      await server.start();
    }
  });

  it('says which variables to set when there are no credentials', async () => {
    const { AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY } = process.env;
    delete process.env.AWS_ACCESS_KEY_ID;
    delete process.env.AWS_SECRET_ACCESS_KEY;
    try {
      const error = await open(`s3://${server.bucket}/x`).putBytes('k', 'v').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UserError);
      for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_PROFILE']) expect((error as Error).message).toContain(name);
    } finally {
      Object.assign(process.env, { AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY });
    }
  });

  it('says the credentials were refused when they are wrong', async () => {
    const secret = process.env.AWS_SECRET_ACCESS_KEY;
    process.env.AWS_SECRET_ACCESS_KEY = 'not-the-secret';
    try {
      const error = await open(`s3://${server.bucket}/x`).list('').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UserError);
      expect((error as Error).message).toMatch(/refused the credentials[\s\S]*AWS_SECRET_ACCESS_KEY/);
    } finally {
      process.env.AWS_SECRET_ACCESS_KEY = secret;
    }
  });

  it('names the missing bucket and MODELSHIP_ARTIFACTS, for writes, reads and listings', async () => {
    const store = open('s3://no-such-bucket/releases');
    for (const call of [() => store.putBytes('k', 'v'), () => store.stat('k'), () => store.list('')]) {
      const error = await call().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UserError);
      expect((error as Error).message).toContain('"no-such-bucket"');
      expect((error as Error).message).toContain('MODELSHIP_ARTIFACTS');
    }
  });

  it('refuses a malformed s3:// location with a clear error', () => {
    expect(() => openArtifactStore('s3://No_Such/x')).toThrow(/not an S3 location: s3:\/\/No_Such\/x/);
  });
});
