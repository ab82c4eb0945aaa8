import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { RuntimeAdminClient, RuntimeAdminError } from '../../activities/runtime/admin-client.ts';

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise<void>((resolve) => s.close(() => resolve()));
});

/** A runtime that answers every admin call with `reply`. */
async function runtimeAnswering(reply: unknown): Promise<RuntimeAdminClient> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(reply));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return new RuntimeAdminClient({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, token: 't' });
}

describe('the runtime admin client', () => {
  it('parses replies with the admin contract (unknown extra fields kept)', async () => {
    const state = { model: 'digits', variants: {}, weights: { candidate: 0, stable: 100, shadow: 100 }, models: ['digits'] };
    expect(await (await runtimeAnswering(state)).state('digits')).toEqual(state);
  });

  it('refuses a reply outside the contract, naming the field', async () => {
    const client = await runtimeAnswering({ model: 'digits', variants: {}, weights: { candidate: 150, stable: 0, shadow: 0 } });
    const err = await client.state('digits').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RuntimeAdminError);
    expect((err as Error).message).toMatch(/GET \/admin\/state\?model=digits answered outside the admin contract .*: weights\.candidate: /);
    const promote = await (await runtimeAnswering({ model: 'digits' })).promote('digits').catch((e: unknown) => e);
    expect((promote as Error).message).toMatch(/\/admin\/promote answered outside the admin contract .*: stable: /);
  });
});
