/**
 * The promise of the push/resume work, under fire: the socket is killed at random moments, many
 * times, while a publisher streams numbered topic messages and a caller makes counted,
 * non-idempotent durable calls. Every message arrives exactly once and in order (or inside a
 * reported gap); every call's effect happens exactly once; nothing hangs.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Code } from '../../src/status.ts';
import type { Gap } from '../../src/topics.ts';
import { Harness, delay, prng, underChaos } from './helpers.ts';

const kill = { code: Code.InternalServerError, msg: 'Internal Server Error', cause: 'chaos' };

describe('chaos: random socket kills during a stream and non-idempotent calls', { timeout: 60_000 }, () => {
  test('exactly once, in order, nothing lost silently, nothing hangs', async (t) => {
    const seed = Number(process.env['CHAOS_SEED'] ?? 20261122);
    const random = prng(seed);
    const h = new Harness(t);
    const { ep, url } = await h.endpoint();
    ep.topic('/stream', { history: { count: 100_000 } });
    const effects = new Map<number, number>();
    ep.route('/count', async (n: any) => {
      effects.set(n, (effects.get(n) ?? 0) + 1); // the non-idempotent effect
      await delay(Math.floor(random() * 4));
      return n;
    });
    const { client: c, log } = h.logged(url, { reconnect: { min: 2, max: 15 } });
    const got: number[] = [];
    const gaps: Gap[] = [];
    c.on('gap', (g) => void gaps.push(g));
    await c.subscribe('/stream', (m) => void got.push(m as number)).ready;

    let published = 0;
    let streaming = true;
    const publisher = (async () => {
      while (streaming) {
        ep.publish('/stream', ++published);
        await delay(1);
      }
    })();
    const CALLS = 150;
    let kills = 0;
    const chaos = (async () => {
      for (let k = 0; k < 25; k++) {
        await delay(Math.floor(random() * 25));
        const s = ep.sessions.list()[0];
        if (s) {
          ep.sessions.kick(s.id, kill);
          kills++;
        }
      }
    })();
    const stop = () => ((streaming = false), publisher);
    const received = () => got.length;
    const values = await underChaos({ client: c, count: CALLS, random, chaos, stop, received, gaps, published: () => published, seed });

    assert.ok(kills >= 10, `the socket was killed ${kills} times`);
    assert.ok(log.states.filter((s) => s === 'reconnecting').length >= 10, 'and the client reconnected each time');
    assert.deepEqual(
      values,
      Array.from({ length: CALLS }, (_, i) => i + 1),
      'every call resolved with its own result',
    );
    for (let n = 1; n <= CALLS; n++) assert.equal(effects.get(n), 1, `call ${n} took effect exactly once (seed ${seed})`);
    assert.deepEqual(gaps, [], 'the history reached back every time: no gap');
    assert.deepEqual(
      got,
      Array.from({ length: published }, (_, i) => i + 1),
      `every message once, in order (seed ${seed})`,
    );
  });
});
