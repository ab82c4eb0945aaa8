/**
 * The S3 store against a real S3-protocol server (versitygw): streaming multipart round trip with
 * progress, write-once semantics, racing writers, and corruption caught on download.
 */
import { createWriteStream } from 'node:fs';
import { mkdtemp, readdir, rm, truncate, open } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArtifactConflictError, IntegrityError } from '../../../activities/store/artifact-store.ts';
import { digestFile } from '../../../activities/store/hash.ts';
import { openArtifactStore } from '../../../activities/store/open-store.ts';
import { S3ArtifactStore } from '../../../activities/store/s3-store.ts';
import { isolateAwsEnv, startS3Server, type S3TestServer } from './s3-server.ts';

const MiB = 1024 * 1024;

async function randomFile(path: string, bytes: number): Promise<void> {
  const out = createWriteStream(path);
  for (let left = bytes; left > 0; left -= MiB) {
    if (!out.write(randomBytes(Math.min(MiB, left)))) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

describe('S3ArtifactStore on versitygw', () => {
  let server: S3TestServer;
  let work: string;
  let store: S3ArtifactStore;

  beforeAll(async () => {
    isolateAwsEnv();
    server = await startS3Server();
    Object.assign(process.env, server.env());
    work = await mkdtemp(join(tmpdir(), 'modelship-s3-test-'));
    const opened = openArtifactStore(`s3://${server.bucket}/releases`);
    expect(opened).toBeInstanceOf(S3ArtifactStore);
    store = opened as S3ArtifactStore;
  });

  afterAll(async () => {
    store?.close();
    await server?.dispose();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('streams a 40 MiB file up in several parts and back, with progress both ways', async () => {
    const source = join(work, 'engine.plan');
    await randomFile(source, 40 * MiB);
    const up: Array<[number, number]> = [];
    const ref = await store.putFile('digits/v1/engine.plan', source, (done, total) => up.push([done, total]));
    expect(ref).toEqual({ uri: `s3://${server.bucket}/releases/digits/v1/engine.plan`, ...(await digestFile(source)) });
    expect(up.length).toBeGreaterThanOrEqual(5);
    expect(up.at(-1)).toEqual([40 * MiB, 40 * MiB]);
    expect(up.map(([d]) => d)).toEqual([...up.map(([d]) => d)].sort((a, b) => a - b));

    const raw = server.rawClient();
    const head = await raw.send(new HeadObjectCommand({ Bucket: server.bucket, Key: 'releases/digits/v1/engine.plan' }));
    raw.destroy();
    expect(head.ETag).toMatch(/-5"$/); // 5 parts of 8 MiB
    expect(head.Metadata?.sha256).toBe(ref.sha256);

    const down: number[] = [];
    const target = join(work, 'out', 'engine.plan');
    await store.getFile(ref, target, (done) => down.push(done));
    expect(await digestFile(target)).toEqual({ sha256: ref.sha256, bytes: ref.bytes });
    expect(down.length).toBeGreaterThan(10);
    expect(down.at(-1)).toBe(40 * MiB);
    expect(await readdir(join(work, 'out'))).toEqual(['engine.plan']);

    expect(await store.stat('digits/v1/engine.plan')).toEqual({ key: 'digits/v1/engine.plan', bytes: ref.bytes, sha256: ref.sha256 });
  });

  it('accepts an identical re-put (multipart and single) and refuses different content', async () => {
    const source = join(work, 'engine.plan');
    const first = await store.putFile('digits/v1/engine.plan', source);
    expect(first.uri).toBe(store.uriFor('digits/v1/engine.plan'));

    const small = await store.putBytes('digits/v1/metadata.json', '{"version":"v1"}');
    expect(await store.putBytes('digits/v1/metadata.json', '{"version":"v1"}')).toEqual(small);

    const conflict = await store.putBytes('digits/v1/metadata.json', '{"version":"v2"}').catch((e: unknown) => e);
    expect(conflict).toBeInstanceOf(ArtifactConflictError);
    expect((conflict as ArtifactConflictError).existingSha256).toBe(small.sha256);

    const other = join(work, 'other.plan');
    await randomFile(other, 9 * MiB);
    await expect(store.putFile('digits/v1/engine.plan', other)).rejects.toBeInstanceOf(ArtifactConflictError);
  });

  it('leaves exactly one object when writers race (If-None-Match on PutObject and CompleteMultipartUpload)', async () => {
    const same = await Promise.all([store.putBytes('race/same.txt', 'same'), store.putBytes('race/same.txt', 'same')]);
    expect(same[0]).toEqual(same[1]);

    const small = await Promise.allSettled([store.putBytes('race/small.txt', 'one'), store.putBytes('race/small.txt', 'two')]);
    expect(small.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(small.find((r) => r.status === 'rejected')?.reason).toBeInstanceOf(ArtifactConflictError);

    const [a, b] = [join(work, 'race-a.bin'), join(work, 'race-b.bin')];
    await Promise.all([randomFile(a, 12 * MiB), randomFile(b, 12 * MiB)]);
    const big = await Promise.allSettled([store.putFile('race/big.bin', a), store.putFile('race/big.bin', b)]);
    expect(big.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(big.find((r) => r.status === 'rejected')?.reason).toBeInstanceOf(ArtifactConflictError);
    const winner = big.findIndex((r) => r.status === 'fulfilled');
    expect((await store.stat('race/big.bin'))?.sha256).toBe((await digestFile(winner === 0 ? a : b)).sha256);
  });

  it('lists keys under a prefix, page by page, and stats missing keys as undefined', async () => {
    await Promise.all(Array.from({ length: 5 }, (_, i) => store.putBytes(`listing/v1/f${i}.txt`, `file ${i}`)));
    await store.putBytes('listing/v10/other.txt', 'sibling prefix');
    expect(await store.list('listing/v1')).toEqual([0, 1, 2, 3, 4].map((i) => `listing/v1/f${i}.txt`));
    expect(await store.list('listing/v1/')).toHaveLength(5);
    expect(await store.list('nothing-here')).toEqual([]);
    expect(await store.stat('listing/v1/missing.txt')).toBeUndefined();
  });

  it('round-trips an empty file', async () => {
    const empty = join(work, 'empty');
    await randomFile(empty, 0);
    const ref = await store.putFile('edge/empty', empty);
    expect(ref.bytes).toBe(0);
    await store.getFile(ref, join(work, 'edge', 'empty'));
    expect(await digestFile(join(work, 'edge', 'empty'))).toEqual({ sha256: ref.sha256, bytes: 0 });
  });

  describe('corruption is caught on download and leaves nothing at the destination', () => {
    const expectRefused = async (ref: Parameters<S3ArtifactStore['getFile']>[0], name: string): Promise<void> => {
      const dir = join(work, `corrupt-${name}`);
      const error = await store.getFile(ref, join(dir, 'artifact')).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(IntegrityError);
      expect((error as IntegrityError).message).toContain(ref.uri);
      expect(await readdir(dir)).toEqual([]); // neither the file nor a .part left behind
    };

    it('an object overwritten behind the store (raw PutObject, same size and metadata)', async () => {
      const ref = await store.putBytes('corrupt/raw.bin', 'the real bytes');
      const raw = server.rawClient();
      await raw.send(
        new PutObjectCommand({ Bucket: server.bucket, Key: 'releases/corrupt/raw.bin', Body: 'the fake bytes', Metadata: { sha256: ref.sha256 } }),
      );
      raw.destroy();
      await expectRefused(ref, 'raw');
    });

    it('a single-part object with a flipped byte in the server data folder', async () => {
      const ref = await store.putBytes('corrupt/flipped.bin', randomBytes(64 * 1024));
      const file = await open(join(server.dataDir, server.bucket, 'releases/corrupt/flipped.bin'), 'r+');
      await file.write(Buffer.from([0xff ^ 0x5a]), 0, 1, 1000);
      await file.close();
      await expectRefused(ref, 'flipped');
    });

    it('a multipart object truncated in the server data folder', async () => {
      const source = join(work, 'truncate.bin');
      await randomFile(source, 11 * MiB);
      const ref = await store.putFile('corrupt/truncated.bin', source);
      await truncate(join(server.dataDir, server.bucket, 'releases/corrupt/truncated.bin'), 10 * MiB);
      await expectRefused(ref, 'truncated');
    });
  });
});
