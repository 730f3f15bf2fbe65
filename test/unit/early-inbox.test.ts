import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EarlyInbox } from '../../src/early-inbox.ts';
import { ManualClock } from '../../src/clock.ts';
import { createMessage } from '../../src/message.ts';
import { DrpcError } from '../../src/status.ts';

const msg = (seq: number) => createMessage({ seq, mtype: 4 });

describe('EarlyInbox (handshake messages)', () => {
  it('queues in order until received, and hands new ones to a waiter at once', async () => {
    const box = new EarlyInbox(new ManualClock());
    box.push(msg(1));
    box.push(msg(2));
    assert.equal((await box.receive(0)).seq, 1);
    assert.equal((await box.receive(0)).seq, 2);
    const waiting = box.receive(0);
    box.push(msg(3));
    assert.equal((await waiting).seq, 3);
  });

  it('refuses past its bound, times out with 408, and fails waiters on close', async () => {
    const clock = new ManualClock();
    const box = new EarlyInbox(clock, 2);
    assert.equal(box.push(msg(1)), true);
    assert.equal(box.push(msg(2)), true);
    assert.equal(box.push(msg(3)), false);
    const empty = new EarlyInbox(clock);
    const late = empty.receive(100);
    clock.advance(100);
    await assert.rejects(late, (e: DrpcError) => e.code === 408);
    assert.equal(clock.pending, 0);
    const waiting = empty.receive(0);
    empty.close(new DrpcError(102));
    await assert.rejects(waiting, (e: DrpcError) => e.code === 102);
  });
});
