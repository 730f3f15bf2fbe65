/**
 * Which nodes are alive, and what a relayed request does when its node dies, with a scripted link in
 * place of Redis (the real thing, a node killed with SIGKILL, is in test/integration/scale-out.test.ts).
 */
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { Liveness, type LivenessLink } from '../../adapters/redis/liveness.ts';
import { Requests, type RequestsLink } from '../../adapters/redis/requests.ts';
import { decodePayload } from '../../adapters/redis/payload.ts';
import { Code, DrpcError } from '../../src/status.ts';

const BEAT = 25;
const beats = (n: number) => new Promise((r) => setTimeout(r, BEAT * n));
const failure = (p: Promise<unknown>): Promise<DrpcError> =>
  p.then(
    () => assert.fail('it settled with a value'),
    (e: unknown) => e as DrpcError,
  );

/** Keys with an expiry, as Redis keeps them; `away` makes every command fail, as Redis down. */
class Keys implements LivenessLink {
  readonly #until = new Map<string, number>();
  away = false;
  beats = 0;
  beat(key: string, ttlMs: number): Promise<unknown> {
    if (this.away) return Promise.reject(new Error('redis away'));
    this.beats++;
    this.#until.set(key, Date.now() + ttlMs);
    return Promise.resolve();
  }
  exist(keys: string[]): Promise<boolean[]> {
    if (this.away) return Promise.reject(new Error('redis away'));
    return Promise.resolve(keys.map((k) => (this.#until.get(k) ?? 0) > Date.now()));
  }
  forget(key: string): Promise<unknown> {
    this.#until.delete(key);
    return Promise.resolve();
  }
  has(key: string): boolean {
    return (this.#until.get(key) ?? 0) > Date.now();
  }
}

/** A node that watches others, beating already, stopped after the test. */
function startedWatcher(t: TestContext): { keys: Keys; watcher: Liveness } {
  const keys = new Keys();
  const watcher = new Liveness(keys, 'r:watcher', BEAT);
  t.after(() => watcher.stop());
  watcher.start();
  return { keys, watcher };
}

/** A watcher and a watched node sharing one set of keys. */
function pair(keys = new Keys()) {
  const watcher = new Liveness(keys, 'r:watcher', BEAT);
  const watched = new Liveness(keys, 'r:watched', BEAT);
  return { keys, watcher, watched };
}

describe('liveness: a node tells Redis it is alive; the nodes waiting on it learn when it stops', () => {
  it('a node that keeps beating is never taken for dead; one that stops is, once, after its key expires and two checks miss it', async (t) => {
    const { keys, watcher, watched } = pair();
    t.after(() => Promise.all([watcher.stop(), watched.stop()]));
    watcher.start();
    watched.start();
    let gone = 0;
    watcher.watch('r:watched', () => gone++);
    await beats(10);
    assert.equal(gone, 0);
    assert.ok(keys.beats >= 10, `both nodes beat (${keys.beats})`);
    await watched.stop(); // a clean stop deletes the key at once
    assert.equal(keys.has('r:watched'), false);
    await beats(6);
    assert.equal(gone, 1);
    await beats(4);
    assert.equal(gone, 1, 'told once');
  });

  it('a crashed node (no goodbye) is taken for dead once its key expires (3 beats) and two checks miss it', async (t) => {
    const { keys, watcher } = pair();
    t.after(() => watcher.stop());
    await keys.beat('r:crashed', BEAT * 3); // it beat once, then died
    watcher.start();
    let gone = 0;
    watcher.watch('r:crashed', () => gone++);
    await beats(2);
    assert.equal(gone, 0, 'its key has not expired yet');
    await beats(8);
    assert.equal(gone, 1);
  });

  it('one missed check is not death (a first beat still on its way); an unwatched node is not checked', async (t) => {
    const { keys, watcher } = startedWatcher(t);
    let gone = 0;
    const unwatch = watcher.watch('r:late', () => gone++);
    await beats(1.5); // one check sees no key
    await keys.beat('r:late', 60_000);
    await beats(5);
    assert.equal(gone, 0);
    unwatch();
    await keys.forget('r:late');
    await beats(5);
    assert.equal(gone, 0, 'unwatched: nobody told');
  });

  it('while Redis is away a check tells nothing: nobody is taken for dead by a failed check', async (t) => {
    const { keys, watcher } = startedWatcher(t);
    let gone = 0;
    watcher.watch('r:never-beat', () => gone++);
    keys.away = true;
    await beats(8);
    assert.equal(gone, 0);
    keys.away = false;
    await beats(6);
    assert.equal(gone, 1, 'once Redis answers, the missing key counts');
  });
});

/** Requests between two nodes over a scripted pub/sub: `deliver` routes a message to the node listening on its channel. */
function requestsPair(keys: Keys, timeoutMs = 1000) {
  const listeners = new Map<string, (m: unknown[]) => void>();
  const liveness = new Liveness(keys, 'unused', BEAT);
  const link: RequestsLink = {
    prefix: 'p:',
    timeoutMs,
    publish: (_what, channel, message) => {
      const to = listeners.get(channel);
      if (to) queueMicrotask(() => to(decodePayload(message) as unknown[]));
      return Promise.resolve(to ? 1 : 0);
    },
    listen: () => Promise.resolve(),
    watch: (node, gone) => liveness.watch(node, gone),
  };
  const caller = new Requests(link);
  const holder = new Requests(link);
  // Liveness's timer does not hold a process open (a broker's Redis connections do): this stands in for them.
  const open = setInterval(() => {}, 1000);
  const stop = () => (clearInterval(open), liveness.stop());
  listeners.set(caller.address, (m) =>
    m[0] === 'w' ? caller.taken(m[1] as string, m[2] as string) : caller.settle(m as [string, null, unknown]),
  );
  return { listeners, caller, holder, liveness, stop };
}

describe('a relayed request that must be taken (a call to a session on another node)', () => {
  it('settles with 102 when the node that took it dies, and with its reply while that node lives', async (t) => {
    const keys = new Keys();
    const { listeners, caller, holder, liveness, stop } = requestsPair(keys);
    const holderBeat = new Liveness(keys, holder.address, BEAT);
    t.after(() => Promise.all([stop(), holderBeat.stop()]));
    liveness.start();
    holderBeat.start();
    let finish!: (v: unknown) => void;
    listeners.set('p:s:user', (m) => holder.respond(m[2] as string, m[1] as string, new Promise((r) => (finish = r)), true));
    const answered = caller.request('call', 'p:s:user', Infinity, 'missing', (n) => ['c', n, caller.address], true);
    await beats(6);
    finish('yes');
    assert.equal(await answered, 'yes');

    const failed = failure(
      caller.request('call "/ui" on session "user"', 'p:s:user', Infinity, 'missing', (n) => ['c', n, caller.address], true),
    );
    await beats(2);
    await holderBeat.stop(); // the holder dies (its key is gone)
    const err = await failed;
    assert.equal(err.code, Code.ConnClosed);
    assert.match(err.causeText, /call "\/ui" on session "user": the node holding the session is gone/);
  });

  it('settles with 102 when a node listens on the channel but never takes it (its session closed meanwhile); 404 when nobody listens', async (t) => {
    const keys = new Keys();
    const { listeners, caller, stop } = requestsPair(keys, 50);
    t.after(stop);
    listeners.set('p:s:closing', () => {}); // subscribed, but the session is gone: the message is dropped there
    const err = await failure(caller.request('call x', 'p:s:closing', Infinity, 'missing', (n) => ['c', n, caller.address], true));
    assert.equal(err.code, Code.ConnClosed);
    assert.match(err.causeText, /call x: no node took it within 50 ms/);
    const none = await failure(caller.request('call y', 'p:s:nobody', Infinity, 'no session "nobody"', (n) => ['c', n], true));
    assert.equal(none.code, Code.NotFound);
  });

  it('a request that times out (or is closed) while its PUBLISH is still on its way rejects through its caller, never as an unhandled rejection', async () => {
    let arrived!: (count: number) => void;
    const slow: RequestsLink = {
      prefix: 'p:',
      timeoutMs: 1000,
      publish: () => new Promise<number>((r) => (arrived = r)), // Redis is slow to answer the PUBLISH
      listen: () => Promise.resolve(),
      watch: () => () => {},
    };
    const requests = new Requests(slow);
    const timedOut = requests.request('call z', 'p:s:slow', 10, 'missing', (n) => ['c', n]);
    await beats(2); // the 10 ms wait ends first; the test runner fails the test on an unhandled rejection
    arrived(1);
    assert.equal((await failure(timedOut)).code, Code.HandleTimeout);
    const closed = requests.request('call y', 'p:s:slow', 1000, 'missing', (n) => ['c', n]);
    await beats(1);
    requests.close();
    await beats(1);
    arrived(1);
    assert.equal((await failure(closed)).code, Code.ConnClosed);
  });
});
