/** The endpoint's side of an HTTP session: frames up in number order, once; frames down kept until acknowledged. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ManualClock } from '../../src/clock.ts';
import type { Frame } from '../../src/proto/proto.ts';
import { NodeHttpTransport } from '../../adapters/node/http-transport.ts';

function transport(): { t: NodeHttpTransport; got: Frame[]; closed: string[] } {
  const t = new NodeHttpTransport('sid', 'http://test', new ManualClock(), { pingMs: 1000, maxAgeMs: 10_000, graceMs: 1000 });
  const got: Frame[] = [];
  const closed: string[] = [];
  t.listen({ receiveFrame: (f) => void got.push(f), transportClosed: (r) => void closed.push(r) });
  return { t, got, closed };
}

describe('NodeHttpTransport', () => {
  it('an empty POST (an acknowledgement) numbered like a body that waits for an earlier one does not replace that body', () => {
    const { t, got } = transport();
    assert.equal(t.receive(3, ['f3', 'f4']), true); // frames 1-2 are still on their way
    assert.equal(t.receive(3, []), true); // the client acknowledges what it received: no frames, the next number
    assert.equal(t.receive(1, ['f1', 'f2']), true);
    assert.deepEqual(got, ['f1', 'f2', 'f3', 'f4']);
  });

  it('untilListening(): pending until the session listens (or the transport closes), then nothing to wait for', async () => {
    const fresh = () => new NodeHttpTransport('sid', 'http://test', new ManualClock(), { pingMs: 1000, maxAgeMs: 10_000, graceMs: 1000 });
    const a = fresh();
    let settled = false;
    const wait = a.untilListening()!;
    void wait.then(() => (settled = true));
    await Promise.resolve();
    assert.equal(settled, false, 'a POST waits while the session is not listening');
    assert.equal(a.untilListening(), wait, 'every POST waits on the same promise');
    a.listen({ receiveFrame: () => {}, transportClosed: () => {} });
    await wait;
    assert.equal(a.untilListening(), undefined);
    const b = fresh();
    const closing = b.untilListening()!;
    b.ended('client said goodbye');
    await closing;
    assert.equal(b.untilListening(), undefined, 'a closed transport: the POST goes on (and gets its 404)');
  });

  it('delivers POSTed frames once and in number order, whatever order and how often the POSTs arrive (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 40 }),
        (sizes, picks) => {
          // batches of consecutive numbers, as the client makes them
          const batches: { first: number; frames: Frame[] }[] = [];
          let n = 1;
          for (const size of sizes) {
            batches.push({ first: n, frames: Array.from({ length: size }, (_, i) => `f${n + i}`) });
            n += size;
          }
          const { t, got } = transport();
          // at most 4 in flight, answered in any order, some retried after a "network error"
          const pending = batches.map((b) => ({ ...b, retried: false }));
          const inflight: typeof pending = [];
          let k = 0;
          const pick = () => picks[k++ % Math.max(picks.length, 1)] ?? 0;
          while (pending.length || inflight.length) {
            while (inflight.length < 4 && pending.length) inflight.push(pending.shift()!);
            const i = pick() % inflight.length;
            const b = inflight[i]!;
            assert.equal(t.receive(b.first, b.frames), true);
            if (!b.retried && pick() % 3 === 0)
              b.retried = true; // its answer was lost: the client sends it again later
            else inflight.splice(i, 1);
          }
          assert.deepEqual(
            got,
            Array.from({ length: n - 1 }, (_, i) => `f${i + 1}`),
          );
        },
      ),
    );
  });

  it('keeps frames sent down until acknowledged, and sends a new stream only what comes after its ack', () => {
    const { t } = transport();
    for (let i = 1; i <= 5; i++) t.send(`m${i}`);
    assert.ok(t.bufferedAmount > 0);
    t.ack(3);
    const written: string[] = [];
    const res = { write: (s: string) => void written.push(s), end: () => {}, on: () => {}, socket: null } as never;
    t.attachStream(res, 3);
    assert.equal(written.join(''), 'id: 4\ndata: m4\n\nid: 5\ndata: m5\n\n');
    t.ack(5);
    assert.equal(t.bufferedAmount, 0);
  });

  it('closes when no stream comes back within graceMs', () => {
    const clock = new ManualClock();
    const t = new NodeHttpTransport('sid', 'http://test', clock, { pingMs: 1000, maxAgeMs: 10_000, graceMs: 500 });
    const closed: string[] = [];
    t.listen({ receiveFrame: () => {}, transportClosed: (r) => void closed.push(r) });
    let onClose: () => void = () => {};
    const res = { write: () => {}, end: () => {}, on: (_e: string, f: () => void) => void (onClose = f), socket: null } as never;
    t.attachStream(res, 0);
    onClose(); // the stream broke
    clock.advance(499);
    assert.deepEqual(closed, []);
    clock.advance(2);
    assert.deepEqual(closed, ['http stream not resumed within 500 ms']);
  });

  it('writes the frames sent while a POST body is delivered in one write, before a close sent during it', () => {
    const clock = new ManualClock();
    const t = new NodeHttpTransport('sid', 'http://test', clock, { pingMs: 1000, maxAgeMs: 10_000, graceMs: 500 });
    const writes: string[] = [];
    const res = {
      write: (s: string) => void writes.push(s),
      end: (s: string) => void writes.push(`END ${s}`),
      on: () => {},
      socket: null,
    } as never;
    t.attachStream(res, 0);
    writes.length = 0;
    // The handlers answer each frame at once; the last one closes the session.
    t.listen({
      receiveFrame: (f) => (f === 'bye' ? t.close('done') : t.send(`re:${String(f)}`)),
      transportClosed: () => {},
    });
    t.receive(1, ['a', 'b']);
    assert.deepEqual(writes, ['id: 1\ndata: re:a\n\nid: 2\ndata: re:b\n\n']);
    t.receive(3, ['c', 'bye']);
    assert.equal(writes.length, 2);
    assert.match(writes[1]!, /^END id: 3\ndata: re:c\n\nevent: close\n/);
  });
});
