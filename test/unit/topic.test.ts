/**
 * A topic over a shared log (a broker's, answered asynchronously), with a scripted log in place of
 * Redis: a subscribe that fails leaves an earlier subscription of the same session as it was, and
 * nothing published while it waited is lost.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Topic } from '../../src/topics.ts';
import type { Deliver, LogState, TopicLogFactory } from '../../src/topic-log.ts';
import type { Session } from '../../src/session.ts';
import { systemClock } from '../../src/clock.ts';
import { Code, codeError } from '../../src/status.ts';

/** A shared log whose reads wait until the test answers them. */
function scriptedLog() {
  const reads: { resolve(s: LogState): void; reject(e: unknown): void }[] = [];
  let deliver!: Deliver;
  const logs: TopicLogFactory = (_topic, _limits, d) => {
    deliver = d;
    return {
      epoch: 'e1',
      offset: 0,
      append: () => Promise.reject(new Error('not used')),
      read: () => new Promise<LogState>((resolve, reject) => reads.push({ resolve, reject })),
    };
  };
  return { logs, reads, deliver: (offset: number, payload: unknown) => deliver(offset, 'e1', payload) };
}

/** The session side a topic uses: the pushes it was sent (offset and payload). */
function fakeSession() {
  const got: [string, unknown][] = [];
  const session = {
    push: (_method: string, payload: unknown, o: { meta: Record<string, string> }) => (got.push([o.meta._o!, payload]), Promise.resolve()),
  } as unknown as Session;
  return { session, got };
}

describe('Topic over a shared log', () => {
  it('a subscribe that fails (502) leaves a subscription the session had, and sends it what came meanwhile', async () => {
    const log = scriptedLog();
    const topic = new Topic('/news', systemClock, {}, undefined, log.logs);
    const { session, got } = fakeSession();
    const first = topic.subscribe(session);
    log.reads[0]!.resolve({ epoch: 'e1', offset: 0, first: 1, entries: [] });
    assert.deepEqual(await first, { epoch: 'e1', offset: 0 });

    const again = topic.subscribe(session, { offset: 0, epoch: 'e1' }) as Promise<unknown>;
    log.deliver(1, 'live while the second subscribe waits');
    assert.deepEqual(got, [], 'held until the read answers');
    log.reads[1]!.reject(codeError(Code.BadGateway, 'read "/news": redis: not connected'));
    await assert.rejects(again, (e: { code: number }) => e.code === Code.BadGateway);
    assert.ok(topic.subscribers.has(session), 'still subscribed');
    assert.deepEqual(got, [['1', 'live while the second subscribe waits']]);
  });

  it('a first subscribe that fails leaves no subscription, and its held messages go nowhere', async () => {
    const log = scriptedLog();
    const topic = new Topic('/news', systemClock, {}, undefined, log.logs);
    const { session, got } = fakeSession();
    const sub = topic.subscribe(session) as Promise<unknown>;
    log.deliver(1, 'x');
    log.reads[0]!.reject(codeError(Code.BadGateway, 'down'));
    await assert.rejects(sub);
    assert.equal(topic.subscribers.has(session), false);
    assert.deepEqual(got, []);
  });

  it('a subscribe that succeeds sends the held messages the read did not cover, once, in order', async () => {
    const log = scriptedLog();
    const topic = new Topic('/news', systemClock, {}, undefined, log.logs);
    const { session, got } = fakeSession();
    const sub = topic.subscribe(session, { offset: 0, epoch: 'e1' });
    log.deliver(1, 'a');
    log.deliver(2, 'b');
    log.reads[0]!.resolve({ epoch: 'e1', offset: 1, first: 1, entries: [{ offset: 1, payload: 'a' }] });
    assert.deepEqual(await sub, { epoch: 'e1', offset: 1 });
    assert.deepEqual(got, [
      ['1', 'a'],
      ['2', 'b'],
    ]);
  });
});
