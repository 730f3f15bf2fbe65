/**
 * The redial policy: backoff delays within [0, min·2^attempt] capped at max, a bounded number of
 * attempts, one waiting timer at a time, and dialing at once when asked (the browser came back).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../src/clock.ts';
import { Redial } from '../../src/redial.ts';

function setup(options: ConstructorParameters<typeof Redial>[1]) {
  const clock = new ManualClock();
  const t0 = clock.now();
  const dials: number[] = []; // when each dial happened, in ms since the start
  const redial = new Redial(clock, options, () => dials.push(clock.now() - t0));
  return { clock, dials, redial };
}

describe('Redial', () => {
  it('dials once per schedule, after a delay within the backoff ceiling, counting attempts', () => {
    const { clock, dials, redial } = setup({ min: 100, max: 250 });
    let at = 0; // ms since the start when the schedule is made
    for (const ceiling of [100, 200, 250, 250]) {
      assert.equal(redial.schedule(false), true);
      assert.equal(redial.waiting, true);
      clock.advance(ceiling);
      assert.equal(dials.length, redial.attempt, 'dialed once for this attempt');
      assert.ok(dials.at(-1)! - at <= ceiling, `within ${ceiling} ms`);
      assert.equal(redial.waiting, false);
      at += ceiling;
    }
    assert.equal(redial.attempt, 4);
  });

  it('immediate dials on the next tick of the clock, with no delay', () => {
    const { clock, dials, redial } = setup({});
    redial.schedule(true);
    clock.advance(0);
    assert.deepEqual(dials, [0]);
  });

  it('refuses once the attempts are spent, and always when reconnect is false', () => {
    const { redial } = setup({ attempts: 2, min: 1, max: 1 });
    assert.equal(redial.schedule(false), true);
    assert.equal(redial.schedule(false), true);
    assert.equal(redial.schedule(false), false);
    assert.equal(setup(false).redial.schedule(true), false);
  });

  it('keeps one timer: a second schedule replaces the first; cancel stops it', () => {
    const { clock, dials, redial } = setup({ min: 50, max: 50 });
    redial.schedule(false);
    redial.schedule(false);
    clock.advance(100);
    assert.equal(dials.length, 1);
    redial.schedule(false);
    redial.cancel();
    clock.advance(100);
    assert.equal(dials.length, 1);
    assert.equal(redial.waiting, false);
  });

  it('now() dials at once instead of waiting, and does nothing when no redial waits', () => {
    const { clock, dials, redial } = setup({ min: 10_000, max: 10_000 });
    redial.now();
    assert.deepEqual(dials, []);
    redial.schedule(false);
    redial.now();
    assert.deepEqual(dials, [0]);
    clock.advance(20_000);
    assert.deepEqual(dials, [0], 'the timer it replaced does not fire');
  });

  it('while a browser says it is offline, the timer parks its attempt; back online, now() makes it', () => {
    const { clock, dials, redial } = setup({ min: 10, max: 10, attempts: 2 });
    const online = (onLine: boolean) => Object.defineProperty(globalThis, 'navigator', { value: { onLine }, configurable: true });
    const had = Object.getOwnPropertyDescriptor(globalThis, 'navigator');
    try {
      online(false);
      assert.equal(redial.schedule(false), true);
      clock.advance(60_000);
      assert.deepEqual(dials, [], 'no dial while offline');
      assert.equal(redial.attempt, 1, 'one attempt, waiting');
      assert.equal(redial.waiting, true);
      online(true);
      redial.now(); // the 'online' event
      assert.deepEqual(dials, [60_000]);
      assert.equal(redial.waiting, false);
      assert.equal(redial.schedule(false), true, 'the second attempt is still there');
      assert.equal(redial.schedule(false), false);
      redial.cancel();
    } finally {
      if (had) Object.defineProperty(globalThis, 'navigator', had);
      else delete (globalThis as { navigator?: unknown }).navigator;
    }
  });
});
