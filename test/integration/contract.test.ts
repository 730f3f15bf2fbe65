import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { connect, contract, DrpcError, serveCalls } from '../../src/index.ts';
import { createEndpoint } from '../../adapters/node/index.ts';

const api = contract({
  calls: {
    '/math/add': { input: z.object({ a: z.number(), b: z.number() }), output: z.number() },
    '/bad/output': { input: z.null(), output: z.number() },
  },
  pushes: { '/chat/msg': z.object({ room: z.string(), text: z.string() }) },
  client: { '/ui/confirm': { input: z.string(), output: z.boolean() } },
  topics: {
    '/prices': z.object({ symbol: z.string(), price: z.number() }),
    '/room/*': z.object({ text: z.string() }), // a family: its schema holds for every topic under /room/
  },
});

describe('typed contracts over real sockets', async () => {
  const ep = createEndpoint({ contract: api, validateOutput: true });
  ep.route('/math/add', ({ a, b }) => a + b);
  ep.route('/bad/output', () => 'not a number' as unknown as number);
  const { url } = await ep.listen({ path: '/rpc' });
  const errors: DrpcError[] = [];
  const peer = connect(url, { contract: api, validate: true, heartbeat: false, serve: serveCalls });
  after(async () => {
    await peer.close();
    await ep.close({ drain: 0 });
  });

  it('calls a typed route', async () => {
    assert.equal(await peer.call('/math/add', { a: 2, b: 3 }), 5);
  });

  it('answers an invalid input with 400 naming every failing path', async () => {
    const untyped = peer as unknown as { call(m: string, b: unknown): Promise<unknown> };
    await assert.rejects(untyped.call('/math/add', { a: 'x' }), (e: DrpcError) => {
      assert.equal(e.code, 400);
      assert.match(e.causeText, /invalid input of \/math\/add: a: .*; b: /);
      return true;
    });
  });

  it('answers an invalid output with 500 when validateOutput is on', async () => {
    await assert.rejects(
      peer.call('/bad/output', null),
      (e: DrpcError) => e.code === 500 && /invalid output of \/bad\/output/.test(e.causeText),
    );
  });

  it('validates pushes on the client (opt-in) and drops a bad one', async () => {
    const got: string[] = [];
    peer.onPush('/chat/msg', (m) => void got.push(m.text));
    await peer.ready();
    const [session] = ep.sessions.list();
    await ep.push(session!, '/chat/msg', { room: 'r', text: 'one' });
    await session!.push('/chat/msg', { room: 'r' }); // bypasses the typed API: invalid
    await ep.push(session!, '/chat/msg', { room: 'r', text: 'two' });
    for (let i = 0; i < 50 && got.length < 2; i++) await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(got, ['one', 'two']);
    void errors;
  });

  it('validates server → client call inputs on the client (400)', async () => {
    peer.route('/ui/confirm', (q) => q === 'Sure?');
    const [session] = ep.sessions.list();
    assert.equal(await ep.call(session!, '/ui/confirm', 'Sure?'), true);
    await assert.rejects(
      session!.call('/ui/confirm', 42),
      (e: DrpcError) => e.code === 400 && /invalid input of \/ui\/confirm/.test(e.causeText),
    );
  });

  it('types and (opt-in) validates topic messages', async () => {
    ep.topic('/prices');
    const got: number[] = [];
    await peer.subscribe('/prices', (p) => void got.push(p.price)).ready;
    ep.publish('/prices', { symbol: 'A', price: 1 });
    (ep.publish as (n: string, p: unknown) => number)('/prices', { symbol: 'B' }); // invalid: reported, not delivered
    ep.publish('/prices', { symbol: 'C', price: 3 });
    for (let i = 0; i < 50 && got.length < 2; i++) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(got, [1, 3]);
  });

  it("validates a family's topic messages with the family's schema", async () => {
    ep.topic('/room/*');
    const got: string[] = [];
    await peer.subscribe('/room/7', (line) => void got.push(line.text)).ready;
    ep.publish('/room/7', { text: 'a' });
    (ep.publish as (n: string, p: unknown) => number)('/room/7', { price: 2 }); // invalid: reported, not delivered
    ep.publish('/room/7', { text: 'c' });
    for (let i = 0; i < 50 && got.length < 2; i++) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(got, ['a', 'c']);
  });

  it('an unknown session id rejects with 404', async () => {
    await assert.rejects(ep.push('nobody', '/chat/msg', { room: 'r', text: 't' }), (e: DrpcError) => e.code === 404);
  });
});
