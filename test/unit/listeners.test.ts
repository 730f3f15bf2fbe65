/** The event emitter behind client, session and endpoint events. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Listeners } from '../../src/listeners.ts';

interface Events {
  tick(n: number): void;
  other(): void;
}

describe('Listeners', () => {
  it('calls listeners of one event in the order added; off() stops one', () => {
    const l = new Listeners<Events>();
    const seen: string[] = [];
    l.on('tick', (n) => void seen.push(`a${n}`));
    const off = l.on('tick', (n) => void seen.push(`b${n}`));
    l.on('other', () => void seen.push('other'));
    l.emit('tick', 1);
    off();
    l.emit('tick', 2);
    assert.deepEqual(seen, ['a1', 'b1', 'a2']);
  });

  it('a listener added or removed while emitting takes effect from the next emit', () => {
    const l = new Listeners<Events>();
    const seen: string[] = [];
    let offB = () => {};
    l.on('tick', () => {
      seen.push('a');
      offB();
      l.on('tick', () => void seen.push('late'));
    });
    offB = l.on('tick', () => void seen.push('b'));
    l.emit('tick', 1);
    assert.deepEqual(seen, ['a', 'b']);
  });

  it('a listener that throws does not stop the others nor the emitter; its error is reported', () => {
    const reported: unknown[] = [];
    const l = new Listeners<Events>((err) => reported.push(err));
    const seen: number[] = [];
    const boom = new Error('listener bug');
    l.on('tick', () => {
      throw boom;
    });
    l.on('tick', (n) => void seen.push(n));
    assert.doesNotThrow(() => l.emit('tick', 7));
    assert.deepEqual(seen, [7]);
    assert.deepEqual(reported, [boom]);
  });
});
