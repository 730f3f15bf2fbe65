/** The system clock's timers (a delay past what runtimes can hold must not fire at once), and awaitAtMost. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { awaitAtMost, ManualClock, systemClock } from '../../src/clock.ts';

describe('systemClock', () => {
  it('holds a timer longer than 2^31 - 1 ms (or Infinity) instead of firing it at once', async () => {
    let fired = 0;
    const handles = [2 ** 40, Infinity, 30 * 24 * 3600 * 1000].map((ms) => systemClock.setTimeout(() => fired++, ms));
    await new Promise((r) => setTimeout(r, 30));
    for (const h of handles) systemClock.clearTimeout(h);
    assert.equal(fired, 0);
  });

  it('fires a NaN or negative delay as soon as it can, like 0', async () => {
    let fired = 0;
    systemClock.setTimeout(() => fired++, NaN);
    systemClock.setTimeout(() => fired++, -5);
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(fired, 2);
  });
});

describe('awaitAtMost', () => {
  it('resolves when the promise does, and clears its timer', async () => {
    const clock = new ManualClock();
    let release!: () => void;
    const waited = awaitAtMost(clock, new Promise<void>((r) => (release = r)), 1000);
    assert.equal(clock.pending, 1);
    release();
    await waited;
    assert.equal(clock.pending, 0, 'no timer left behind');
  });

  it('resolves after ms when the promise never settles', async () => {
    const clock = new ManualClock();
    let done = false;
    const waited = awaitAtMost(clock, new Promise(() => {}), 1000).then(() => (done = true));
    clock.advance(999);
    await Promise.resolve();
    assert.equal(done, false);
    clock.advance(1);
    await waited;
    assert.equal(done, true);
  });
});
