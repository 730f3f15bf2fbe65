import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CallNumbers } from '../../src/call-numbers.ts';

describe('CallNumbers', () => {
  it('acknowledges up to the lowest call still open, whatever order calls settle in', () => {
    const c = new CallNumbers();
    assert.equal(c.acked, 1);
    const [a, b, d] = [c.take(), c.take(), c.take()];
    assert.deepEqual([a, b, d], [1, 2, 3]);
    c.settle(2);
    assert.equal(c.acked, 1, 'call 1 is still open');
    c.settle(1);
    assert.equal(c.acked, 3);
    c.settle(3);
    assert.equal(c.acked, 4, 'nothing open: the next number');
  });

  it('equals the minimum open number for any interleaving (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.boolean(), { maxLength: 400 }), fc.integer({ min: 0, max: 1000 }), (ops, seed) => {
        const c = new CallNumbers();
        const open = new Set<number>();
        let next = 1;
        let r = seed;
        for (const take of ops) {
          if (take || open.size === 0) {
            open.add(c.take());
            next++;
          } else {
            r = (r * 1103515245 + 12345) % 2147483648;
            const n = [...open][r % open.size]!;
            open.delete(n);
            c.settle(n);
          }
          assert.equal(c.acked, open.size ? Math.min(...open) : next);
        }
      }),
    );
  });
});
