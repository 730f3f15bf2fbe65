/**
 * Claims of a client between nodes (adapters/node/client-claims.ts), against a scripted broker: the
 * claims that cross (found by the scale-out chaos test under load, where a call ran twice) hand on
 * everything, and a connection of an older claim runs no new call.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ClientClaims } from '../../adapters/node/client-claims.ts';
import type { Broker } from '../../adapters/node/broker.ts';
import { ReplyCache, type CachedReply, type ClientHandOff } from '../../src/reply-cache.ts';
import { ManualClock } from '../../src/clock.ts';
import { Code } from '../../src/status.ts';

const reply = (n: number): CachedReply => ({
  status: { code: 0, msg: '', cause: '' },
  meta: {},
  bodyCodec: 106,
  body: new Uint8Array([n]),
});

/** A broker whose claims are scripted: each gets the next version, and its hand-off when the test says. */
function scripted() {
  const pending: { version: number; answer(h: ClientHandOff | undefined): void }[] = [];
  let version = 0;
  const broker = {
    claimClient: (_id: string, _ttl: number, claimed: (v: number) => void) =>
      new Promise<ClientHandOff | undefined>((answer) => {
        claimed(++version);
        pending.push({ version, answer });
      }),
  } as unknown as Broker;
  return { broker, pending };
}

const settled = async <T>(p: Promise<T>): Promise<boolean> => {
  let done = false;
  void p.then(() => (done = true));
  for (let i = 0; i < 10; i++) await Promise.resolve();
  return done;
};

describe('ClientClaims', () => {
  it('a second connection to this node waits for the first one’s hand-off: its copy of a call that ran elsewhere is answered, not run', async () => {
    const { broker, pending } = scripted();
    const clock = new ManualClock();
    const cache = new ReplyCache(clock);
    const claims = new ClientClaims(broker, cache, clock);
    const first = claims.claim('c'); // its previous node is slow to hand over
    const second = claims.claim('c'); // the client reconnected here again meanwhile: nothing to take from itself
    pending[1]!.answer(undefined);
    assert.equal(await settled(second), false, 'the second waits for the first');
    pending[0]!.answer({ acked: 0, done: [[10, reply(10)]], running: [] });
    assert.deepEqual(await Promise.all([first, second]), [1, 2]);
    const session = {};
    cache.claimedBy(session, 2);
    const r = cache.acquire('c');
    assert.deepEqual(
      r.lookup(10, () => {}, session),
      reply(10),
      'call 10 is answered from what the first claim took',
    );
  });

  it('hands a client to a newer claim only once its own older claim got its hand-off, so nothing is lost when claims cross', async () => {
    const { broker, pending } = scripted();
    const clock = new ManualClock();
    const cache = new ReplyCache(clock);
    const claims = new ClientClaims(broker, cache, clock);
    const mine = claims.claim('c'); // version 1, waiting for the node before
    const asked = claims.handOff('c', 2, () => {}); // a newer claim elsewhere asks this node
    assert.equal(await settled(asked), false, 'waits for its own older claim');
    pending[0]!.answer({ acked: 0, done: [[7, reply(7)]], running: [] });
    await mine;
    const h = await asked;
    assert.deepEqual(
      h?.done.map(([n]) => n),
      [7],
      'what its own claim took goes on to the newer one',
    );
    assert.equal(h?.latest, 2);
    const left = {};
    cache.claimedBy(left, 1);
    const late = cache.acquire('c').lookup(8, () => {}, left);
    assert.ok(
      late && late !== 'attached' && late.status.code === Code.WrongConn,
      'a new call on the connection the client left is refused',
    );
  });

  it('answers an older claim at once, keeps its record, and tells the older node that its connection is stale', async () => {
    const { broker, pending } = scripted();
    const clock = new ManualClock();
    const cache = new ReplyCache(clock);
    const claims = new ClientClaims(broker, cache, clock);
    const mine = claims.claim('c');
    pending[0]!.answer(undefined);
    assert.equal(await mine, 1);
    const session = {};
    cache.claimedBy(session, 1);
    const r = cache.acquire('c');
    r.begin(3);
    r.finish(3, reply(3));
    const h = await claims.handOff('c', 0.5, () => {}); // a claim that the broker ordered before this node's
    assert.equal(h?.latest, 1, 'the older node learns of the newer claim');
    assert.deepEqual(
      r.lookup(3, () => {}, session),
      reply(3),
      'this node keeps its replies',
    );
    assert.equal(
      r.lookup(4, () => {}, session),
      undefined,
      'and runs new calls: the client is here',
    );
    const there = new ReplyCache(new ManualClock());
    const older = there.acquire('c');
    older.adopt(h!);
    const stale = {};
    there.claimedBy(stale, 0.5);
    const refused = older.lookup(5, () => {}, stale);
    assert.ok(refused && refused !== 'attached' && refused.status.code === Code.WrongConn, 'the older node runs no new call');
  });
});
