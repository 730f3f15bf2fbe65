import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/clock.ts';
import { HeartbeatPing } from '../../src/heartbeat.ts';
import { serveCalls } from '../../src/serve.ts';
import { Session } from '../../src/session.ts';
import { memoryPair } from '../../src/transport/memory.ts';
import { tick } from '../helpers.ts';

/** A client session pinging at `rate` s, and a server whose pong the test releases (`pong()`). */
function pinging(rate = 3) {
  const clock = new ManualClock(0);
  const [ta, tb] = memoryPair();
  const client = new Session(ta, { clock });
  const server = new Session(tb, { clock, serve: serveCalls });
  const pings: number[] = [];
  const held: (() => void)[] = [];
  server.router.route('/heartbeat', () => (pings.push(clock.now()), new Promise<null>((r) => held.push(() => r(null)))));
  const dead: string[] = [];
  const ping = new HeartbeatPing(client, clock, rate, (why) => void dead.push(why));
  /** Moves the clock, letting frames and replies through. */
  const advance = async (ms: number) => {
    clock.advance(ms);
    for (let i = 0; i < 5; i++) await tick();
  };
  const pong = async () => {
    held.shift()!();
    for (let i = 0; i < 5; i++) await tick();
  };
  return { clock, ping, pings, dead, advance, pong };
}

describe('HeartbeatPing', () => {
  it('arms the next ping when the pong arrives, not in its own timer (a hidden tab would throttle a chain of timers)', async () => {
    const { ping, pings, dead, advance, pong } = pinging(3);
    await advance(3000);
    assert.deepEqual(pings, [3000]);
    await advance(1500);
    await pong(); // answered after 1.5 s
    await advance(2999);
    assert.deepEqual(pings, [3000], 'no ping before a rate has passed since the pong');
    await advance(1);
    assert.deepEqual(pings, [3000, 7500]);
    await pong();
    await advance(3000);
    assert.deepEqual(pings, [3000, 7500, 10500]);
    assert.deepEqual(dead, []);
    ping.stop();
  });

  it('a check on wake pings at once; its pong re-arms the one timer, so pings stay a rate apart', async () => {
    const { ping, pings, advance, pong } = pinging(3);
    await advance(1000);
    ping.check(); // the tab became visible
    await advance(0);
    assert.deepEqual(pings, [1000]);
    await pong();
    await advance(2999);
    assert.deepEqual(pings, [1000], 'the timer armed at the start was replaced');
    await advance(1);
    assert.deepEqual(pings, [1000, 4000]);
    ping.stop();
  });

  it('an unanswered ping declares the peer dead after a rate; a stopped heartbeat never pings again', async () => {
    const { ping, pings, dead, advance } = pinging(3);
    await advance(3000);
    await advance(3000);
    assert.deepEqual(pings, [3000]);
    assert.deepEqual(dead, ['heartbeat unanswered for 3000 ms']);
    ping.stop();
    await advance(10_000);
    assert.deepEqual(pings, [3000]);
  });
});
