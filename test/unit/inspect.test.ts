/**
 * inspect(): what the tap records from each hook and what stats() makes of it, driven directly with
 * a manual clock (the real thing, on a client through a proxy, is in test/integration/inspect.test.ts).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inspect } from '../../src/inspect.ts';
import { ManualClock } from '../../src/clock.ts';
import { createMessage, MType } from '../../src/message.ts';
import type { Client } from '../../src/client.ts';
import type { Session } from '../../src/session.ts';
import type { StateInfo } from '../../src/client-types.ts';

const clock = new ManualClock(0);
const session = { clock } as unknown as Session;
const call = (seq: number, method = '/m') => ({ session, message: createMessage({ mtype: MType.Call, seq, serviceMethod: method }) });
const reply = (seq: number, code = 0) => ({
  session,
  message: createMessage({ mtype: MType.Reply, seq, status: { code, msg: code ? 'x' : '', cause: '' } }),
});

/** A client that only emits states, as far as watch() is concerned. */
function fakeClient() {
  const listeners: ((s: StateInfo) => void)[] = [];
  const client = { clock, on: (event: string, fn: (s: StateInfo) => void) => (event === 'state' && listeners.push(fn), () => {}) };
  return {
    client: client as unknown as Client,
    state: (state: StateInfo['state']) => listeners.forEach((f) => f({ state, reason: state, attempt: 0 })),
  };
}

describe('inspect', () => {
  it('pairs each reply with its call: method, status and round trip on the clock; a seq written again is a re-send', () => {
    const tap = inspect();
    tap.afterWriteCall!(call(1, '/a'));
    clock.advance(5);
    tap.afterReadReplyHeader!(reply(1));
    tap.afterWriteCall!(call(2, '/b'));
    tap.afterWriteCall!(call(2, '/b')); // the durable call, sent again after a reconnect
    clock.advance(7);
    tap.afterReadReplyHeader!(reply(2, 1409));
    tap.afterReadReplyHeader!(reply(99)); // a reply the tap never saw the call of
    const replies = tap.entries.filter((e) => e.kind === 'reply');
    assert.deepEqual(
      replies.map((r) => [r.method, r.code, r.ms]),
      [
        ['/a', 0, 5],
        ['/b', 1409, 7],
        ['', 0, NaN],
      ],
    );
    assert.deepEqual(
      tap.entries.filter((e) => e.kind === 'call').map((e) => e.resent),
      [false, false, true],
    );
    const s = tap.stats();
    assert.deepEqual([s.calls, s.resent, s.replies, s.failed], [2, 1, 3, 1]);
    assert.deepEqual(s.rtt, { p50: 7, p99: 7, max: 7 }, 'the reply without a call has no round trip');
  });

  it('counts a reconnect each time the client goes from open to reconnecting, not a first dial that fails', () => {
    const tap = inspect();
    const { client, state } = fakeClient();
    tap.watch(client);
    for (const s of ['connecting', 'reconnecting', 'open', 'reconnecting', 'reconnecting', 'open', 'reconnecting'] as const) state(s);
    assert.equal(tap.stats().reconnects, 2);
  });

  it('keeps the newest `limit` entries, and clear() starts over (a seq seen before the clear is new again)', () => {
    const tap = inspect({ limit: 3 });
    for (let seq = 1; seq <= 5; seq++) tap.afterWriteCall!(call(seq));
    assert.deepEqual(
      tap.entries.map((e) => (e.kind === 'call' ? e.seq : -1)),
      [3, 4, 5],
    );
    tap.clear();
    tap.afterWriteCall!(call(5));
    assert.deepEqual(tap.stats(), { calls: 1, resent: 0, replies: 0, failed: 0, reconnects: 0, gaps: 0 });
  });

  it('remembers at most `limit` unanswered calls (calls that time out get no reply): the oldest lose their round trip', () => {
    const tap = inspect({ limit: 3 });
    for (let seq = 1; seq <= 4; seq++) tap.afterWriteCall!(call(seq));
    clock.advance(2);
    tap.afterReadReplyHeader!(reply(1)); // forgotten when the 4th call was written
    tap.afterReadReplyHeader!(reply(4));
    const ms = tap.entries.filter((e) => e.kind === 'reply').map((e) => e.ms);
    assert.deepEqual(ms, [NaN, 2]);
    tap.afterWriteCall!(call(2)); // still remembered: a re-send
    const last = tap.entries.at(-1);
    assert.ok(last?.kind === 'call' && last.resent);
  });
});
