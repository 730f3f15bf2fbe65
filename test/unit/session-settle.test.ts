/**
 * Settling exactly once, under any interleaving: random sequences of replies, timeouts (ManualClock),
 * aborts, transport closes and active closes across many calls. Every call settles once, with an
 * outcome its history allows; the pending table ends empty and no timer is left behind.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Session } from '../../src/session.ts';
import { memoryPair } from '../../src/transport/memory.ts';
import { ManualClock } from '../../src/clock.ts';
import { Code, DrpcError } from '../../src/status.ts';
import { serveCalls } from '../../src/serve.ts';

/** Lets queued microtasks and the memory transport's deliveries run (no real time passes for the clock). */
const flush = () => new Promise<void>((r) => setImmediate(r));

type Event =
  | { t: 'call'; timeout: number; signal: boolean }
  | { t: 'reply'; k: number }
  | { t: 'advance'; ms: number }
  | { t: 'abort'; k: number }
  | { t: 'flush' }
  | { t: 'transportClose'; side: 'client' | 'server' }
  | { t: 'activeClose'; side: 'client' | 'server' };

const event: fc.Arbitrary<Event> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ t: fc.constant('call' as const), timeout: fc.constantFrom(0, 50, 100, 250), signal: fc.boolean() }) },
  { weight: 4, arbitrary: fc.record({ t: fc.constant('reply' as const), k: fc.nat() }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('advance' as const), ms: fc.constantFrom(1, 49, 50, 99, 120, 300) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('abort' as const), k: fc.nat() }) },
  { weight: 4, arbitrary: fc.constant({ t: 'flush' as const }) },
  {
    weight: 1,
    arbitrary: fc.record({ t: fc.constant('transportClose' as const), side: fc.constantFrom('client' as const, 'server' as const) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ t: fc.constant('activeClose' as const), side: fc.constantFrom('client' as const, 'server' as const) }),
  },
);

interface Tracked {
  id: number;
  timeout: number;
  startedAt: number;
  controller?: AbortController;
  aborted: boolean;
  settles: number;
  outcome?: { ok: true; value: unknown } | { ok: false; error: unknown; at: number };
}

describe('Session: every call settles exactly once (property)', () => {
  it('under random replies, timeouts, aborts, transport closes and active closes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(event, { minLength: 1, maxLength: 40 }), async (events) => {
        const clock = new ManualClock();
        const [ta, tb] = memoryPair();
        const errors: unknown[] = [];
        const onError = (e: unknown) => void errors.push(e);
        const client = new Session(ta, { serve: serveCalls, clock, timeout: 100, closeTimeout: 200, onError });
        const server = new Session(tb, { serve: serveCalls, clock, closeTimeout: 200, onError });
        const release = new Map<number, () => void>();
        server.router.route('/hang', (id) => new Promise((r) => release.set(id as number, () => r({ echo: id }))));

        const calls: Tracked[] = [];
        const closing: Promise<void>[] = [];
        for (const ev of events) {
          switch (ev.t) {
            case 'call': {
              const c: Tracked = { id: calls.length, timeout: ev.timeout, startedAt: clock.now(), aborted: false, settles: 0 };
              if (ev.signal) c.controller = new AbortController();
              calls.push(c);
              client.call('/hang', c.id, { timeout: ev.timeout, signal: c.controller?.signal }).then(
                (value) => {
                  c.settles++;
                  c.outcome = { ok: true, value };
                },
                (error) => {
                  c.settles++;
                  c.outcome = { ok: false, error, at: clock.now() };
                },
              );
              break;
            }
            case 'reply': {
              if (!release.size) break;
              const ids = [...release.keys()];
              const id = ids[ev.k % ids.length]!;
              release.get(id)!();
              release.delete(id);
              break;
            }
            case 'advance':
              clock.advance(ev.ms);
              break;
            case 'abort': {
              const withSignal = calls.filter((c) => c.controller && !c.aborted);
              if (!withSignal.length) break;
              const c = withSignal[ev.k % withSignal.length]!;
              c.aborted = true;
              c.controller!.abort(new Error('user gave up'));
              break;
            }
            case 'flush':
              await flush();
              break;
            case 'transportClose':
              (ev.side === 'client' ? ta : tb).close('network down');
              break;
            case 'activeClose':
              closing.push((ev.side === 'client' ? client : server).close());
              break;
          }
        }

        // Wind down: answer what is still running, let time pass for close timeouts, then drop the link.
        for (const r of release.values()) r();
        await flush();
        clock.advance(1000);
        await flush();
        ta.close('test over');
        await Promise.all([client.closed, server.closed, ...closing]);
        await flush();

        for (const c of calls) {
          assert.equal(c.settles, 1, `call ${c.id} settled ${c.settles} times`);
          const o = c.outcome!;
          if (o.ok) {
            assert.deepEqual(o.value, { echo: c.id });
            continue;
          }
          const e = o.error;
          assert.ok(e instanceof DrpcError, `call ${c.id} rejected with ${String(e)}`);
          if (e.code === Code.HandleTimeout) {
            assert.ok(c.timeout > 0, 'only a call with a timeout times out');
            assert.ok(o.at - c.startedAt >= c.timeout, `timed out after ${o.at - c.startedAt} of ${c.timeout} ms`);
            assert.match(e.message, new RegExp(`timed out after ${c.timeout} ms`));
          } else if (e.code === Code.Canceled) {
            assert.ok(c.aborted, 'only an aborted call is canceled');
          } else {
            assert.equal(e.code, Code.ConnClosed, `call ${c.id}: unexpected code ${e.code} (${e.message})`);
          }
        }
        assert.equal(client.pendingCalls, 0, 'no pending call left');
        assert.equal(server.pendingCalls, 0);
        assert.equal(clock.pending, 0, 'no timer left');
        assert.equal(client.state, 'closed');
        assert.equal(server.state, 'closed');
        for (const e of errors) assert.ok(e instanceof DrpcError);
      }),
      { numRuns: 150 },
    );
  });

  it('a call settled by its reply ignores a later timeout, abort and close', async () => {
    const clock = new ManualClock();
    const [ta, tb] = memoryPair();
    const client = new Session(ta, { serve: serveCalls, clock, timeout: 100 });
    const server = new Session(tb, { serve: serveCalls, clock });
    server.router.route('/now', () => 'done');
    const ac = new AbortController();
    let settles = 0;
    const p = client.call('/now', null, { signal: ac.signal }).finally(() => settles++);
    assert.equal(await p, 'done');
    assert.equal(clock.pending, 0, 'the timeout timer was cleared');
    ac.abort();
    clock.advance(1000);
    ta.close();
    await client.closed;
    await flush();
    assert.equal(settles, 1);
    assert.equal(client.pendingCalls, 0);
  });

  it('an active close waits for pending calls, answers them, then refuses new ones with 102', async () => {
    const clock = new ManualClock();
    const [ta, tb] = memoryPair();
    const client = new Session(ta, { serve: serveCalls, clock, timeout: 0, closeTimeout: 500 });
    const server = new Session(tb, { serve: serveCalls, clock });
    let release!: () => void;
    server.router.route('/slow', () => new Promise((r) => (release = () => r('late but fine'))));
    const p = client.call('/slow');
    await flush();
    const closing = client.close();
    await assert.rejects(client.call('/slow'), (e: DrpcError) => e.code === Code.ConnClosed);
    release();
    assert.equal(await p, 'late but fine');
    await closing;
    assert.equal(client.state, 'closed');
    assert.equal(clock.pending, 0, 'the close timer was cleared');
  });

  it('an active close gives up after closeTimeout and settles what is left with 102', async () => {
    const clock = new ManualClock();
    const [ta, tb] = memoryPair();
    const client = new Session(ta, { serve: serveCalls, clock, timeout: 0, closeTimeout: 500 });
    const server = new Session(tb, { serve: serveCalls, clock });
    server.router.route('/never', () => new Promise(() => {}));
    const p = client.call('/never');
    await flush();
    const closing = client.close();
    clock.advance(499);
    await flush();
    assert.equal(client.state, 'closing');
    clock.advance(1);
    await closing;
    await assert.rejects(p, (e: DrpcError) => e.code === Code.ConnClosed);
    assert.equal(client.pendingCalls, 0);
    assert.equal(clock.pending, 0);
  });
});
