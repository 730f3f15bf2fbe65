import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ReplyCache, type CachedReply, type ClientReplies, type ReplyStore } from '../../src/reply-cache.ts';
import { ManualClock } from '../../src/clock.ts';
import { Code, DrpcError } from '../../src/status.ts';

const reply = (n: number): CachedReply => ({
  status: { code: 0, msg: '', cause: '' },
  meta: {},
  bodyCodec: 106,
  body: new Uint8Array([n & 255]),
});

function run(r: ClientReplies, n: number): void {
  assert.equal(
    r.lookup(n, () => assert.fail('not running')),
    undefined,
  );
  r.begin(n);
  r.finish(n, reply(n));
}

describe('ReplyCache', () => {
  it('runs a new call once, attaches copies that arrive while it runs, and answers later copies from the cache', () => {
    const r = new ReplyCache(new ManualClock()).acquire('client-a');
    const attached: CachedReply[] = [];
    assert.equal(
      r.lookup(1, () => assert.fail('not running')),
      undefined,
    );
    r.begin(1);
    assert.equal(
      r.lookup(1, (x) => void attached.push(x)),
      'attached',
    );
    r.finish(1, reply(1));
    assert.deepEqual(attached, [reply(1)]);
    assert.deepEqual(
      r.lookup(1, () => {}),
      reply(1),
    );
  });

  it('a cancel aborts the running original (its job), not a finished or unknown call', () => {
    const r = new ReplyCache(new ManualClock()).acquire('client-a');
    const job: { controller?: AbortController } = {};
    r.begin(3, job);
    const why = new DrpcError(Code.Canceled, 'the caller canceled the call');
    assert.equal(r.cancel(3, why), true);
    assert.equal(job.controller?.signal.aborted, true);
    assert.equal(job.controller?.signal.reason, why);
    r.finish(3, reply(3));
    assert.equal(r.cancel(3, why), false);
    assert.equal(r.cancel(4, why), false);
  });

  it('keeps one record per client id, shared by its connections (a half-open old one and the new one)', () => {
    const cache = new ReplyCache(new ManualClock());
    const old = cache.acquire('c1');
    const fresh = cache.acquire('c1');
    assert.equal(old, fresh);
    assert.notEqual(cache.acquire('c2'), old);
    old.begin(7);
    assert.equal(
      fresh.lookup(7, () => {}),
      'attached',
    );
  });

  it('drops replies the client acknowledged (every call below `_k` settled)', () => {
    const r = new ReplyCache(new ManualClock()).acquire('c');
    for (let n = 1; n <= 10; n++) run(r, n);
    assert.equal(r.size, 10);
    r.ack(8);
    run(r, 11);
    assert.equal(r.size, 4, 'calls 8..11 are kept');
    assert.equal(
      r.lookup(7, () => {}),
      undefined,
    );
    assert.deepEqual(
      r.lookup(8, () => {}),
      reply(8),
    );
  });

  it('forgets replies past maxAgeMs and beyond maxEntries, oldest first', () => {
    const clock = new ManualClock();
    const r = new ReplyCache(clock, { maxEntries: 100, maxAgeMs: 1000 }).acquire('c');
    for (let n = 0; n < 5000; n++) {
      run(r, n);
      if (n % 1000 === 999) clock.advance(1); // ages stay within the window: the count bound decides
    }
    assert.equal(r.size, 100);
    assert.equal(
      r.lookup(4899, () => {}),
      undefined,
    );
    assert.deepEqual(
      r.lookup(4900, () => {}),
      reply(4900),
    );
    clock.advance(1001);
    assert.equal(
      r.lookup(4999, () => {}),
      undefined,
    );
    assert.equal(r.size, 0);
  });

  it('keeps a disconnected client for maxAgeMs, and at most maxClients of them', () => {
    const clock = new ManualClock();
    const cache = new ReplyCache(clock, { maxAgeMs: 1000, maxClients: 2 });
    const a = cache.acquire('a');
    run(a, 1);
    cache.release(a);
    clock.advance(500);
    assert.equal(cache.acquire('a'), a, 'back within the window: same record, same replies');
    assert.deepEqual(
      a.lookup(1, () => {}),
      reply(1),
    );
    cache.release(a);
    clock.advance(1001);
    assert.notEqual(cache.acquire('a'), a, 'gone longer than maxAgeMs: forgotten');
    for (const id of ['x', 'y', 'z']) cache.release(cache.acquire(id));
    assert.equal(cache.clients, 3, "'a' is connected; of the idle x, y, z the oldest went");
  });
});

describe('ReplyCache byte bound (maxBytes)', () => {
  const sized = (n: number, bytes: number): CachedReply => ({ ...reply(n), body: new Uint8Array(bytes) });
  const finish = (r: ClientReplies, n: number, bytes: number) => {
    r.begin(n);
    r.finish(n, sized(n, bytes));
  };

  it("over the bound, a client's new reply pushes out its own oldest ones; one that cannot fit is not kept", () => {
    const cache = new ReplyCache(new ManualClock(), { maxBytes: 10 });
    const a = cache.acquire('a');
    finish(a, 1, 4);
    finish(a, 2, 4);
    assert.equal(cache.bytes, 8);
    finish(a, 3, 4); // 12 > 10: reply 1 goes
    assert.equal(cache.bytes, 8);
    assert.equal(
      a.lookup(1, () => {}),
      undefined,
      'reply 1 is gone: a re-sent call 1 would run again',
    );
    assert.ok(a.lookup(3, () => {}));
    finish(a, 4, 11); // bigger than the whole bound
    assert.equal(
      a.lookup(4, () => {}),
      undefined,
    );
    assert.ok(cache.bytes <= 10, `held ${cache.bytes} B`);
  });

  it('disconnected clients are forgotten first, longest gone first, before a connected one loses a reply', () => {
    const clock = new ManualClock();
    const cache = new ReplyCache(clock, { maxBytes: 10 });
    const gone1 = cache.acquire('gone1');
    finish(gone1, 1, 4);
    cache.release(gone1);
    clock.advance(1);
    const gone2 = cache.acquire('gone2');
    finish(gone2, 1, 4);
    cache.release(gone2);
    const live = cache.acquire('live');
    finish(live, 1, 4); // 12 > 10: gone1 is forgotten
    assert.equal(cache.bytes, 8);
    assert.equal(cache.clients, 2);
    assert.ok(live.lookup(1, () => {}));
    assert.ok(
      cache.acquire('gone2').lookup(1, () => {}),
      'gone2 (gone later) is still known',
    );
    assert.equal(
      cache.acquire('gone1').lookup(1, () => {}),
      undefined,
      'gone1 was forgotten',
    );
  });
});

describe('ReplyCache hand-off between nodes (scale-out)', () => {
  it('the previous node hands over its replies and running calls, and forwards a running call’s reply when it finishes', () => {
    const before = new ReplyCache(new ManualClock());
    const old = before.acquire('c');
    run(old, 1);
    old.ack(2); // every call below 2 settled
    run(old, 2);
    old.begin(3);
    const forwarded: [number, CachedReply][] = [];
    const h = old.handOff((n, r) => void forwarded.push([n, r]));
    assert.deepEqual(h, { acked: 2, done: [[2, reply(2)]], running: [3] }, 'call 1 was acknowledged: not handed over');

    const next = new ReplyCache(new ManualClock()).acquire('c');
    next.adopt(h);
    assert.deepEqual(
      next.lookup(2, () => assert.fail('answered from the cache')),
      reply(2),
    );
    const copies: CachedReply[] = [];
    assert.equal(
      next.lookup(3, (r) => void copies.push(r)),
      'attached',
      'a copy of the call running there waits, it does not run here',
    );
    old.finish(3, reply(3));
    assert.deepEqual(forwarded, [[3, reply(3)]]);
    next.finish(3, forwarded[0]![1]);
    assert.deepEqual(copies, [reply(3)]);
  });

  it('copies of calls whose reply never comes are failed by abandon; a record with running calls is not dropped', () => {
    const next = new ReplyCache(new ManualClock()).acquire('c');
    next.adopt({ acked: 0, done: [], running: [7] });
    const copies: CachedReply[] = [];
    next.lookup(7, (r) => void copies.push(r));
    const gone = { code: Code.BadGateway, msg: 'Bad Gateway', cause: 'previous node gone' };
    next.abandon([7], gone);
    assert.deepEqual(
      copies.map((r) => r.status),
      [gone],
    );
    next.abandon([7], gone); // finished already: nothing happens twice
    assert.equal(copies.length, 1);

    const clock = new ManualClock();
    const cache = new ReplyCache(clock);
    const busy = cache.acquire('b');
    busy.begin(1);
    cache.release(busy);
    busy.handOff(() => {});
    cache.movedAway('b', 2);
    assert.equal(cache.peek('b'), busy, 'kept: its running call still finishes into it');
    busy.finish(1, reply(1));
    cache.movedAway('b', 2);
    assert.equal(cache.bytes, 0, 'its replies are forgotten: the node the client moved to has them');
    assert.equal(cache.peek('b'), busy, 'the record stays while a call may still be on its way here');
    const late = busy.lookup(2, () => {});
    assert.ok(late && late !== 'attached');
    assert.equal(late.status.code, Code.WrongConn, 'a call that reaches this node after the move is not run here');
    assert.match(late.status.cause, /moved to another node/);
    clock.advance(60_001);
    cache.release(cache.acquire('other')); // any use prunes what aged out
    assert.equal(cache.peek('b'), undefined, 'forgotten once it aged out');
    cache.movedAway('never-called-here', 1);
    const first = cache.acquire('never-called-here').lookup(1, () => {});
    assert.ok(first && first !== 'attached' && first.status.code === Code.WrongConn, 'a first call on its way is refused too');
  });

  it('with a store: records each call as it begins (the handler waits for that) and ends, and forgets what the client acknowledged', async () => {
    const log: string[] = [];
    const store: ReplyStore = {
      begin: async (id, n, ttl) => void log.push(`begin ${id} ${n} ${ttl}`),
      finish: (id, n, r) => void log.push(`finish ${id} ${n} ${r.body[0]}`),
      forget: (id, n) => void log.push(`forget ${id} ${n}`),
      load: async () => undefined,
    };
    const r = new ReplyCache(new ManualClock(), { maxAgeMs: 1000 }, store).acquire('a');
    const recorded = r.begin(1);
    assert.ok(recorded instanceof Promise);
    await recorded;
    r.finish(1, reply(1));
    r.finish(2, reply(2), false); // e.g. forwarded by the previous node, which recorded it
    r.ack(3);
    run(r, 3); // its lookup drops the acknowledged ones
    assert.deepEqual(log, ['begin a 1 1000', 'finish a 1 1', 'forget a 1', 'forget a 2', 'begin a 3 1000', 'finish a 3 3']);
  });

  it('recover: takes the stored replies of a node that is gone, answers its unfinished calls `unknown`, leaves calls known here alone', () => {
    const unknown = { code: Code.Conflict, msg: 'call outcome unknown', cause: 'gone' };
    const r = new ReplyCache(new ManualClock()).acquire('a');
    r.begin(5); // running here (the client was here before)
    r.finish(6, reply(60));
    r.recover(
      {
        done: [
          [1, reply(1)],
          [6, reply(6)],
        ],
        running: [2, 5],
      },
      unknown,
    );
    assert.deepEqual(
      r.lookup(1, () => {}),
      reply(1),
    );
    assert.deepEqual(
      r.lookup(6, () => {}),
      reply(60),
      'its own reply stays',
    );
    assert.deepEqual((r.lookup(2, () => {}) as CachedReply).status, unknown);
    assert.equal(
      r.lookup(5, () => {}),
      'attached',
      'still running here, not answered unknown',
    );
    assert.equal(
      r.lookup(3, () => {}),
      undefined,
      'a call nobody began is new',
    );
  });
});
