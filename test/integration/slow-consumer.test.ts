/** Slow consumers: a subscriber that stops reading cannot grow the endpoint's memory past the bound. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Code } from '../../src/status.ts';
import type { Client } from '../../src/client.ts';
import type { Gap } from '../../src/topics.ts';
import { Harness, onlySession, until, WS_ONLY } from './helpers.ts';

const HIGH = 64 * 1024;
const options = { slowConsumers: { highWaterBytes: HIGH, maxQueued: 50, maxQueuedBytes: 256 * 1024, drainEveryMs: 5 } };
const payload = (i: number) => ({ i, pad: 'x'.repeat(16_000) }); // loopback buffers absorb megabytes: send a lot

/** Stops (or restarts) reading the client's socket: the frozen consumer. */
function freeze(c: Client, on: boolean) {
  const sock = (c.session!.transport as unknown as { ws: { _socket: { pause(): void; resume(): void } } }).ws._socket;
  if (on) sock.pause();
  else sock.resume();
}

describe('slow consumers', { timeout: 30_000 }, () => {
  test(
    'drop-oldest: memory stays bounded while the consumer is frozen; afterwards it gets the rest, and gaps for what was dropped',
    WS_ONLY,
    async (t) => {
      const h = new Harness(t);
      const { ep, url } = await h.endpoint(options);
      ep.topic('/fire', { history: { count: 0 } });
      const c = h.client(url);
      const got: number[] = [];
      const gaps: Gap[] = [];
      c.on('gap', (g) => void gaps.push(g));
      await c.subscribe('/fire', (m) => void got.push((m as { i: number }).i)).ready;
      const s = await onlySession(ep);
      freeze(c, true);
      let maxBuffered = 0;
      let maxQueued = 0;
      for (let i = 1; i <= 3000; i++) {
        ep.publish('/fire', payload(i));
        maxBuffered = Math.max(maxBuffered, s.transport.bufferedAmount);
        maxQueued = Math.max(maxQueued, ep.backlogOf(s).count);
        if (i % 200 === 0) await new Promise((r) => setImmediate(r));
      }
      assert.ok(maxQueued <= 50, `backlog stayed at ${maxQueued} ≤ 50 messages`);
      assert.ok(ep.backlogOf(s).bytes <= 256 * 1024, 'and within its byte bound');
      assert.ok(maxBuffered <= HIGH + 20_000, `unsent bytes stayed at ${maxBuffered} ≤ the high-water mark + one frame`);
      const frozen = ep.stats().slowConsumers;
      assert.equal(frozen.sessions, 1, 'stats: one session has messages waiting');
      assert.ok(frozen.bytes > 0 && frozen.bytes <= 256 * 1024, `stats: the bytes waiting (${frozen.bytes})`);
      freeze(c, false);
      await until(() => got.at(-1) === 3000, 'the last message', 10_000);
      const missed = gaps.reduce((n, g) => n + (g.to - g.from + 1), 0);
      assert.equal(got.length + missed, 3000, 'every message delivered or inside a reported gap');
      assert.ok(missed > 0, 'the frozen consumer lost messages, and was told');
      assert.deepEqual(ep.stats().slowConsumers, { sessions: 0, bytes: 0, dropped: missed, closed: 0 }, 'stats: what was dropped');
      assert.deepEqual(
        got,
        [...got].sort((a, b) => a - b),
        'in order',
      );
    },
  );

  test('conflate: a frozen consumer keeps only the latest message per topic', WS_ONLY, async (t) => {
    const h = new Harness(t);
    const { ep, url } = await h.endpoint(options);
    ep.topic('/price', { history: { count: 0 }, slowPolicy: 'conflate' });
    const c = h.client(url);
    const got: number[] = [];
    await c.subscribe('/price', (m) => void got.push((m as { i: number }).i)).ready;
    const s = await onlySession(ep);
    freeze(c, true);
    for (let i = 1; i <= 2000; i++) {
      ep.publish('/price', payload(i));
      assert.ok(ep.backlogOf(s).count <= 1, 'at most one waiting message per topic');
      if (i % 200 === 0) await new Promise((r) => setImmediate(r));
    }
    freeze(c, false);
    await until(() => got.at(-1) === 2000, 'the latest price', 10_000);
  });

  test('close: past the bound the session is closed with 1503 Slow Consumer, and the client redials', WS_ONLY, async (t) => {
    const h = new Harness(t);
    const { ep, url } = await h.endpoint(options);
    ep.topic('/strict', { history: { count: 0 }, slowPolicy: 'close' });
    const { client: c, log } = h.logged(url);
    await c.subscribe('/strict', () => {}).ready;
    freeze(c, true);
    for (let i = 1; i <= 3000 && ep.sessions.count > 0; i++) {
      ep.publish('/strict', payload(i));
      if (i % 200 === 0) await new Promise((r) => setImmediate(r));
    }
    assert.equal(ep.sessions.count, 0, 'the slow session was closed');
    assert.equal(ep.stats().slowConsumers.closed, 1, 'stats: one session closed as a slow consumer');
    freeze(c, false);
    const lost = await log.waitFor('reconnecting');
    assert.equal(lost.status?.code, Code.SlowConsumer);
  });
});
