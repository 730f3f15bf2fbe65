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

  it('refuses a second subscription to the same topic', () => {
    const { subs } = setup();
    assert.throws(() => subs.subscribe('/t', () => {}), /already subscribed to "\/t"/);
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
