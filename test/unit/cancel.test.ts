/** Cancellation and deadlines over the wire (our extension): the handler's signal follows the caller. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Session } from '../../src/session.ts';
import { memoryPair } from '../../src/transport/memory.ts';
import { ManualClock } from '../../src/clock.ts';
import { rawProto } from '../../src/proto/raw.ts';
import { DrpcError } from '../../src/status.ts';
import { tick } from '../helpers.ts';
import { serveCalls } from '../../src/serve.ts';

function pair(clock = new ManualClock()) {
  const [a, b] = memoryPair();
  const client = new Session(a, { serve: serveCalls, clock, onError: () => {} });
  const server = new Session(b, { serve: serveCalls, clock, onError: () => {} });
  return { client, server, clock, clientEnd: a };
}

/** A handler that resolves with why its signal aborted. */
function watcher() {
  let seen!: (e: DrpcError) => void;
  const aborted = new Promise<DrpcError>((r) => (seen = r));
  const handler = (_b: unknown, ctx: { signal: AbortSignal }) =>
    new Promise((_, reject) =>
      ctx.signal.addEventListener('abort', () => (seen(ctx.signal.reason as DrpcError), reject(ctx.signal.reason))),
    );
  return { aborted, handler };
}

describe('cancellation and deadlines over the wire', () => {
  it('aborting a call aborts the handler with 1499 on the other side', async () => {
    const { client, server } = pair();
    const w = watcher();
    server.router.route('/slow', w.handler);
    const ac = new AbortController();
    const call = client.call('/slow', null, { signal: ac.signal });
    await tick();
    ac.abort();
    await assert.rejects(call, (e: DrpcError) => e.code === 1499);
    const reason = await w.aborted;
    assert.equal(reason.code, 1499);
    assert.equal(server.runningHandlers, 0);
  });

  it("the caller's timeout travels as meta _d and aborts the handler with 408 when it passes", async () => {
    const { client, server, clock, clientEnd } = pair();
    const w = watcher();
    server.router.route('/slow', w.handler);
    const call = client.call('/slow', null, { timeout: 250 });
    await tick();
    const sent = await rawProto().unpack(clientEnd.sent[0]!);
    assert.equal(sent.meta['_d'], '250');
    clock.advance(250);
    await assert.rejects(call, (e: DrpcError) => e.code === 408);
    const reason = await w.aborted;
    assert.equal(reason.code, 408);
    assert.match(reason.message, /250 ms deadline for \/slow passed/);
    assert.equal(clock.pending, 0);
  });

  it('no deadline travels without an explicit timeout, or with sendDeadline: false', async () => {
    const { client, server, clientEnd } = pair();
    server.router.route('/x', () => 1);
    await client.call('/x');
    await client.call('/x', null, { timeout: 100, sendDeadline: false });
    for (const f of clientEnd.sent) assert.equal((await rawProto().unpack(f)).meta['_d'], undefined);
  });

  it('a cancel for a call that already finished, or from a peer without the call, is ignored', async () => {
    const { client, server } = pair();
    server.router.route('/x', () => 1);
    assert.equal(await client.call('/x'), 1);
    await client.push('/drpc/cancel', undefined, { meta: { _c: '1' } });
    await client.push('/drpc/cancel', undefined, { meta: { _c: 'nope' } });
    await tick();
    assert.equal(server.state, 'open');
    assert.equal(await client.call('/x'), 1);
  });
});
