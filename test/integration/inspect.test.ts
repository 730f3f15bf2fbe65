/**
 * inspect(): a tap on a real client, through a proxy that cuts its connection: what it records
 * (calls, the durable call sent again, replies with status and round trip, disconnects, states)
 * and what stats() makes of it.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { faultProxy } from '../../adapters/node/fault-proxy.ts';
import { inspect, type TapEntry } from '../../src/inspect.ts';
import { DrpcError } from '../../src/status.ts';
import { Harness, TRANSPORT, rejection, until } from './helpers.ts';

describe('inspect: a tap on a client', { timeout: 30_000 }, () => {
  test('records calls, replies (status, round trip), a durable call sent again after a cut, disconnects and states', async (t) => {
    const h = new Harness(t);
    const { ep, port } = await h.endpoint();
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    let runs = 0;
    ep.route('/echo', (x) => x);
    ep.route('/refuse', () => {
      throw new DrpcError(1409, 'refused', 'no');
    });
    ep.route('/slow', async () => (runs++, await gate, 'done'));
    const proxy = await faultProxy({ target: port });
    h.defer(() => proxy.close());
    const tap = inspect();
    const seen: TapEntry[] = [];
    tap.on((e) => void seen.push(e));
    const c = h.client(proxy.url('/rpc'), { plugins: [tap] });
    tap.watch(c);
    assert.equal(await c.call('/echo', 1), 1);
    assert.equal((await rejection(c.call('/refuse'))).code, 1409);
    const slow = c.call('/slow');
    await until(() => runs === 1, 'the slow call running');
    if (TRANSPORT === 'websocket') {
      proxy.cut(); // the durable call goes out again on the next connection
      await until(() => tap.entries.some((e) => e.kind === 'call' && e.resent), 'the call sent again');
    }
    open();
    assert.equal(await slow, 'done');

    const calls = tap.entries.filter((e) => e.kind === 'call').map((e) => e.method);
    assert.deepEqual(calls.slice(0, 3), ['/echo', '/refuse', '/slow']);
    const replies = tap.entries.filter((e): e is Extract<TapEntry, { kind: 'reply' }> => e.kind === 'reply');
    assert.deepEqual(
      replies.map((r) => [r.method, r.code]),
      [
        ['/echo', 0],
        ['/refuse', 1409],
        ['/slow', 0],
      ],
    );
    assert.ok(
      replies.every((r) => r.ms >= 0 && Number.isFinite(r.ms)),
      'each reply has its round trip',
    );
    const s = tap.stats();
    assert.deepEqual([s.calls, s.replies, s.failed], [3, 3, 1]);
    assert.ok(s.rtt && s.rtt.p50 >= 0 && s.rtt.max >= s.rtt.p50);
    if (TRANSPORT === 'websocket') {
      assert.equal(s.resent, 1, 'the durable call, sent again once');
      assert.equal(s.reconnects, 1);
      assert.ok(tap.entries.some((e) => e.kind === 'disconnect'));
    }
    assert.deepEqual(seen, tap.entries, 'on() saw every entry as it was recorded');
    tap.clear();
    assert.deepEqual([tap.entries.length, tap.stats().calls], [0, 0]);
  });

  test('keeps at most `limit` entries, the newest', async (t) => {
    const h = new Harness(t);
    const { ep, url } = await h.endpoint();
    ep.route('/echo', (x) => x);
    const tap = inspect({ limit: 4 });
    const c = h.client(url, { plugins: [tap] });
    for (let i = 0; i < 5; i++) await c.call('/echo', i);
    assert.equal(tap.entries.length, 4);
    assert.deepEqual(
      tap.entries.map((e) => e.kind),
      ['call', 'reply', 'call', 'reply'],
    );
  });
});
