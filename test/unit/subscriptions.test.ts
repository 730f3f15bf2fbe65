import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Subscriptions } from '../../src/subscriptions.ts';
import type { DrpcError } from '../../src/status.ts';
import { TOPIC_META } from '../../src/topics.ts';
import type { PushContext } from '../../src/router.ts';
import type { Session } from '../../src/session.ts';

const ctx = (topic: string, offset: number, epoch = 'e1'): PushContext => ({
  session: undefined as unknown as Session,
  serviceMethod: '/drpc/topic',
  seq: 1,
  meta: { [TOPIC_META.topic]: topic, [TOPIC_META.offset]: String(offset), [TOPIC_META.epoch]: epoch },
  bodyCodec: 106,
});

function setup() {
  const gaps: unknown[] = [];
  const subs = new Subscriptions({ gap: (g) => void gaps.push(g), error: () => {} });
  const got: number[] = [];
  const sub = subs.subscribe('/t', (_m, info) => void got.push(info.offset));
  return { subs, sub, got, gaps };
}

describe('Subscriptions (subscriber side of topics)', () => {
  it('delivers each offset once, in order, dropping duplicates and replays it already had', () => {
    const { subs, got, gaps } = setup();
    for (const o of [1, 2, 2, 3, 1, 3, 4]) subs.receive(null, ctx('/t', o));
    assert.deepEqual(got, [1, 2, 3, 4]);
    assert.deepEqual(gaps, []);
  });

  it('reports a hole between live messages as a gap, then goes on', () => {
    const { subs, got, gaps } = setup();
    for (const o of [1, 2, 5, 6]) subs.receive(null, ctx('/t', o));
    assert.deepEqual(got, [1, 2, 5, 6]);
    assert.deepEqual(gaps, [{ topic: '/t', from: 3, to: 4 }]);
  });

  it('reports a new epoch while listening as a gap that marks the history reset', () => {
    const { subs, got, gaps, sub } = setup();
    subs.receive(null, ctx('/t', 1));
    subs.receive(null, ctx('/t', 2));
    subs.receive(null, ctx('/t', 1, 'e2'));
    assert.deepEqual(got, [1, 2, 1]);
    assert.deepEqual(gaps, [{ topic: '/t', from: 3, to: Number.MAX_SAFE_INTEGER, epochChanged: true }]);
    assert.equal(sub.epoch, 'e2');
  });

  it('ignores messages of topics nobody subscribed to, and malformed offsets', () => {
    const { subs, got } = setup();
    subs.receive(null, ctx('/other', 1));
    subs.receive(null, { ...ctx('/t', 1), meta: { [TOPIC_META.topic]: '/t', [TOPIC_META.offset]: 'x', [TOPIC_META.epoch]: 'e1' } });
    subs.receive(null, ctx('/t', 0));
    assert.deepEqual(got, []);
  });

  it('a second subscribe to a topic shares its subscription: every handler gets each message once, offsets are shared', () => {
    const { subs, sub, got } = setup();
    const second: number[] = [];
    const other = subs.subscribe('/t', (_m, info) => void second.push(info.offset));
    for (const o of [1, 2, 2, 3]) subs.receive(null, ctx('/t', o));
    assert.deepEqual(got, [1, 2, 3]);
    assert.deepEqual(second, [1, 2, 3]);
    assert.equal(other.offset, 3);
    assert.equal(sub.offset, 3);
    assert.equal(other.epoch, 'e1');
    assert.equal(other.topic, '/t');
    assert.equal(other.ready, sub.ready, 'one subscribe call, so one ready');
  });

  it('a handler that throws does not keep the message from the others; the error reaches the push route', () => {
    const { subs, got } = setup();
    subs.subscribe('/t', () => {
      throw new Error('component bug');
    });
    const third: number[] = [];
    subs.subscribe('/t', (_m, info) => void third.push(info.offset));
    assert.throws(() => subs.receive(null, ctx('/t', 1)), /component bug/);
    assert.deepEqual(got, [1]);
    assert.deepEqual(third, [1]);
  });

  it('each subscribe has its own unsubscribe; the subscription ends with the last one', async () => {
    const { subs, sub, got } = setup();
    const second: number[] = [];
    const same = (_m: unknown, info: { offset: number }) => void second.push(info.offset);
    const other = subs.subscribe('/t', same);
    const again = subs.subscribe('/t', same); // the same function twice counts twice
    subs.receive(null, ctx('/t', 1));
    assert.deepEqual(second, [1, 1]);
    await sub.unsubscribe();
    await sub.unsubscribe(); // idempotent: does not take another subscribe's place
    subs.receive(null, ctx('/t', 2));
    assert.deepEqual(got, [1], 'the first handler is off');
    assert.deepEqual(second, [1, 1, 2, 2]);
    await other.unsubscribe();
    subs.receive(null, ctx('/t', 3));
    assert.deepEqual(second, [1, 1, 2, 2, 3]);
    await again.unsubscribe();
    subs.receive(null, ctx('/t', 4));
    assert.deepEqual(second, [1, 1, 2, 2, 3], 'ended with the last one');
    const fresh: number[] = [];
    const next = subs.subscribe('/t', (_m, info) => void fresh.push(info.offset), { since: 4 });
    assert.equal(next.offset, 4, 'a subscribe after the end starts a new subscription');
    subs.receive(null, ctx('/t', 5));
    assert.deepEqual(fresh, [5]);
  });

  it("refuses since on a topic already subscribed to (its position is the first subscribe's), with InvalidOp", () => {
    const { subs } = setup();
    assert.throws(
      () => subs.subscribe('/t', () => {}, { since: 0 }),
      (e: DrpcError) => e.code === 1 && /already subscribed to "\/t": since applies to its first subscribe/.test(e.message),
    );
  });

  it('a gap listener that throws does not stop delivery: the message after the hole still arrives, the error is reported', () => {
    const thrown: unknown[] = [];
    const subs = new Subscriptions({ gap: () => {}, error: () => {}, listenerError: (e) => void thrown.push(e) });
    const got: number[] = [];
    const sub = subs.subscribe('/t', (_m, info) => void got.push(info.offset));
    sub.onGap(() => {
      throw new Error('listener bug');
    });
    for (const o of [1, 4, 5]) subs.receive(null, ctx('/t', o));
    assert.deepEqual(got, [1, 4, 5]);
    assert.equal((thrown[0] as Error).message, 'listener bug');
    assert.equal(sub.offset, 5);
  });

  it('refuses an empty or non-string topic and a handler that is not a function, with 400 at once', () => {
    const subs = new Subscriptions({ gap: () => {}, error: () => {} });
    assert.throws(
      () => subs.subscribe('', () => {}),
      (e: DrpcError) => e.code === 400 && /topic must be a non-empty string, got ""/.test(e.message),
    );
    assert.throws(
      () => subs.subscribe(7 as never, () => {}),
      (e: DrpcError) => e.code === 400 && /got 7/.test(e.message),
    );
    assert.throws(
      () => subs.subscribe('/t', 5 as never),
      (e: DrpcError) => e.code === 400 && /handler must be a function/.test(e.message),
    );
    subs.subscribe('/t', () => {}); // nothing was left behind by the refusals
  });

  it('since: an offset ≥ 0, or { offset, epoch } with a non-empty epoch; anything else is a 400 naming it', () => {
    const subs = new Subscriptions({ gap: () => {}, error: () => {} });
    for (const bad of [-1, 1.5, NaN, null, {}, { offset: -1, epoch: 'e1' }, { offset: 3, epoch: '' }, { offset: 3, epoch: 7 }, '3'])
      assert.throws(
        () => subs.subscribe('/bad', () => {}, { since: bad as never }),
        (e: DrpcError) => e.code === 400 && /since must be an offset ≥ 0 or \{ offset, epoch \}, got /.test(e.message),
        JSON.stringify(bad),
      );
    const at = subs.subscribe('/at', () => {}, { since: { offset: 3, epoch: 'e1' } });
    assert.equal(at.offset, 3);
    assert.equal(at.epoch, 'e1');
  });

  it('a position { offset, epoch } resumes like a reconnect: a message of another epoch is the reset gap, not a continuation', () => {
    const gaps: unknown[] = [];
    const subs = new Subscriptions({ gap: (g) => void gaps.push(g), error: () => {} });
    const got: [number, string][] = [];
    subs.subscribe('/t', (_m, info) => void got.push([info.offset, info.epoch]), { since: { offset: 3, epoch: 'e1' } });
    subs.receive(null, ctx('/t', 4)); // e1 goes on
    subs.receive(null, ctx('/t', 5, 'e2')); // a new history: offset 5 of e2 does not follow 4 of e1
    assert.deepEqual(got, [
      [4, 'e1'],
      [5, 'e2'],
    ]);
    assert.deepEqual(gaps, [{ topic: '/t', from: 5, to: Number.MAX_SAFE_INTEGER, epochChanged: true }]);
  });
});
