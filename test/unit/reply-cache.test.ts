import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ReplyCache, type CachedReply } from '../../src/reply-cache.ts';
import { ManualClock } from '../../src/clock.ts';

const reply = (n: number): CachedReply => ({
  status: { code: 0, msg: '', cause: '' },
  meta: {},
  bodyCodec: 106,
  body: new Uint8Array([n]),
});

describe('ReplyCache', () => {
  it('runs a new call once, attaches copies that arrive while it runs, and answers later copies from the cache', () => {
    const cache = new ReplyCache(new ManualClock());
    const attached: CachedReply[] = [];
    assert.equal(
      cache.lookup('a', () => assert.fail('not running')),
      undefined,
    );
    cache.begin('a');
    assert.equal(
      cache.lookup('a', (r) => void attached.push(r)),
      'attached',
    );
    cache.finish('a', reply(1));
    assert.deepEqual(attached, [reply(1)]);
    assert.deepEqual(
      cache.lookup('a', () => {}),
      reply(1),
    );
  });

  it('forgets replies past maxAgeMs and beyond maxEntries, oldest first', () => {
    const clock = new ManualClock();
    const cache = new ReplyCache(clock, { maxEntries: 2, maxAgeMs: 1000 });
    for (const id of ['a', 'b', 'c']) {
      cache.begin(id);
      cache.finish(id, reply(id.charCodeAt(0)));
    }
    assert.equal(cache.size, 2);
    assert.equal(
      cache.lookup('a', () => {}),
      undefined,
    );
    clock.advance(1001);
    assert.equal(
      cache.lookup('c', () => {}),
      undefined,
    );
    assert.equal(cache.size, 0);
  });
});
