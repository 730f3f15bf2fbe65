/**
 * Families of topics (`ep.topic('/room/*')`): a topic per room, document or user, made when a client
 * may subscribe to it or when it is published to, and dropped when nobody needs it, without a subscriber
 * ever losing a message silently.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Code, type DrpcError } from '../../src/status.ts';
import type { Gap } from '../../src/topics.ts';
import { Harness, delay, onlySession, prng, rejection, until } from './helpers.ts';

const kick = { code: Code.InternalServerError, msg: 'Internal Server Error', cause: 'test kills the socket' };

describe('topic families', { timeout: 30_000 }, () => {
  test('a subscribe to a name under the family makes its topic once authorize allowed it; other names are 404', async (t) => {
    const h = new Harness(t);
    const { ep, url } = await h.endpoint();
    const asked: string[] = [];
    const family = ep.topic('/room/*', { authorize: (_s, name) => (asked.push(name), name !== '/room/secret') });
    const c = h.client(url);
    const got: [unknown, number][] = [];
    await c.subscribe('/room/42', (m, info) => void got.push([m, info.offset])).ready;
    assert.deepEqual(asked, ['/room/42']);
    assert.ok(ep.topics.get('/room/42'), 'the topic exists now');
    assert.equal(ep.publish('/room/42', 'hi'), 1);
    await until(() => got.length === 1, 'the message');
    assert.deepEqual(got, [['hi', 1]]);

    const denied = await rejection(c.subscribe('/room/secret', () => {}).ready);
    assert.equal(denied.code, Code.Unauthorized);
    assert.equal(ep.topics.get('/room/secret'), undefined, 'a refused subscriber makes no topic');
    const unknown = await rejection(c.subscribe('/lobby/1', () => {}).ready);
    assert.equal(unknown.code, Code.NotFound);
    assert.equal((await rejection(c.subscribe('/room/*', () => {}).ready)).code, Code.NotFound, 'the family is not a topic');
    assert.deepEqual([...family.topics.keys()], ['/room/42']);
  });

  test('a name declared on its own wins over its family; the longest family prefix wins over a shorter one', async (t) => {
    const h = new Harness(t);
    const { ep, url } = await h.endpoint();
    ep.topic('/room/*', { authorize: () => false });
    ep.topic('/room/public/*');
    ep.topic('/room/lobby');
    const c = h.client(url);
    await c.subscribe('/room/lobby', () => {}).ready;
    await c.subscribe('/room/public/1', () => {}).ready;
    assert.equal((await rejection(c.subscribe('/room/2', () => {}).ready)).code, Code.Unauthorized);
  });

  test("publishing to a name under a family makes its topic with the family's history; a later subscriber reads it", async (t) => {
    const h = new Harness(t);
    const { ep, url } = await h.endpoint();
    ep.topic('/feed/*', { history: { count: 2 } });
    for (const m of ['a', 'b', 'c']) ep.publish('/feed/u1', m);
    const c = h.client(url);
    const got: unknown[] = [];
    const gaps: Gap[] = [];
    const sub = c.subscribe('/feed/u1', (m) => void got.push(m), { since: 0 });
    sub.onGap((g) => void gaps.push(g));
    await sub.ready;
    assert.deepEqual(got, ['b', 'c']);
    assert.deepEqual(
      gaps.map((g) => [g.from, g.to]),
      [[1, 1]],
    );
    assert.throws(
      () => ep.publish('/feed/*', 'x'),
      (e: DrpcError) => e.code === Code.BadMessage && /names a family of topics/.test(e.message),
    );
  });

  test('a topic nobody subscribes to is dropped once its history expired; its subscriber comes back to the same epoch, no gap', async (t) => {
    const h = new Harness(t);
    let admit = Promise.resolve();
    const { ep, url } = await h.endpoint({ verifyUpgrade: () => admit });
    const family = ep.topic('/doc/*', { history: { count: 10, maxAgeMs: 40 } });
    const { client: c, log } = h.logged(url);
    const got: unknown[] = [];
    const gaps: Gap[] = [];
    c.on('gap', (g) => void gaps.push(g));
    await c.subscribe('/doc/1', (m) => void got.push(m)).ready;
    ep.publish('/doc/1', 'one');
    await until(() => got.length === 1, 'the first message');
    const epoch = ep.topics.get('/doc/1')!.epoch;
    // The client is away (its redial waits at the door) while /doc/1's history expires.
    let open!: () => void;
    admit = new Promise<void>((r) => (open = r));
    ep.sessions.kick((await onlySession(ep)).id, kick);
    await log.waitFor('reconnecting');
    await until(() => ep.sessions.count === 0, 'its session gone');
    await delay(60);
    ep.publish('/doc/2', 'another document'); // a new topic of the family sweeps the idle ones
    assert.equal(ep.topics.get('/doc/1'), undefined, 'dropped: no subscriber, nothing kept');
    assert.deepEqual([...family.topics.keys()], ['/doc/2']);
    assert.equal(ep.publish('/doc/1', 'two'), 2, 'made again, its offsets go on');
    assert.equal(ep.topics.get('/doc/1')!.epoch, epoch, 'in the same epoch');
    open();
    await log.waitFor('open', log.events.length - 1);
    await until(() => got.length === 2, 'the message published while it was away');
    assert.deepEqual(got, ['one', 'two']);
    assert.deepEqual(gaps, []);
  });

  test('a full family makes room by dropping a topic nobody subscribes to, history and all: its subscriber gets a gap', async (t) => {
    const h = new Harness(t);
    let admit = Promise.resolve();
    const { ep, url } = await h.endpoint({ verifyUpgrade: () => admit });
    ep.topic('/doc/*', { maxTopics: 2 });
    const { client: c, log } = h.logged(url);
    const got: unknown[] = [];
    const gaps: (Gap & { topic: string })[] = [];
    c.on('gap', (g) => void gaps.push(g));
    await c.subscribe('/doc/1', (m) => void got.push(m)).ready;
    ep.publish('/doc/1', 'one');
    await until(() => got.length === 1, 'the first message');
    let open!: () => void;
    admit = new Promise<void>((r) => (open = r));
    ep.sessions.kick((await onlySession(ep)).id, kick);
    await log.waitFor('reconnecting');
    await until(() => ep.sessions.count === 0, 'its session gone');
    ep.publish('/doc/1', 'two'); // kept in /doc/1's history…
    ep.publish('/doc/2', 'x');
    ep.publish('/doc/3', 'y'); // …until the family, full, drops /doc/1 (the least recently used) for /doc/3
    assert.equal(ep.topics.get('/doc/1'), undefined);
    ep.publish('/doc/1', 'three'); // made again (dropping /doc/2), offsets going on: 3
    open();
    await log.waitFor('open', log.events.length - 1);
    await until(() => got.length === 2, 'the message after the dropped history');
    assert.deepEqual(got, ['one', 'three']);
    assert.deepEqual(
      gaps.map((g) => [g.topic, g.from, g.to, g.epochChanged ?? false]),
      [['/doc/1', 2, 2, false]],
      'what was dropped with the history is a gap, not a silent loss',
    );
  });

  test('churn: many names come and go in a small family; every subscriber gets each message once, in order, or a reported gap', async (t) => {
    const seed = Number(process.env['CHAOS_SEED'] ?? 20261203);
    const random = prng(seed);
    const h = new Harness(t);
    const { ep, url } = await h.endpoint();
    ep.topic('/doc/*', { maxTopics: 4, history: { count: 3 } });
    const names = Array.from({ length: 10 }, (_, i) => `/doc/${i}`);
    const published = new Map<string, number>(); // the last offset published, by name
    /** What one subscriber saw of its topic: offsets delivered and gaps, checked against what was published meanwhile. */
    type Seen = { from: number; offsets: number[]; gaps: Gap[]; sub: ReturnType<ReturnType<typeof h.client>['subscribe']> };
    const clients = [h.client(url), h.client(url)];
    const live = new Map<string, Seen>(); // client index + name → its subscription
    const finished: [string, Seen, number][] = [];
    const made = new Set<object>(); // every topic object published to: more than the names when topics were dropped and made again
    for (let step = 0; step < 300; step++) {
      const name = names[Math.floor(random() * names.length)]!;
      const ci = Math.floor(random() * clients.length);
      const key = `${ci} ${name}`;
      const r = random();
      if (r < 0.6) {
        try {
          const offset = ep.publish(name, step) as number;
          published.set(name, offset);
          made.add(ep.topics.get(name)!);
        } catch (e) {
          assert.equal((e as DrpcError).code, Code.InternalServerError, 'only a full family refuses a publish');
        }
      } else if (r < 0.8 && !live.has(key)) {
        const seen: Seen = { from: 0, offsets: [], gaps: [], sub: undefined as never };
        seen.sub = clients[ci]!.subscribe(name, (_m, info) => void seen.offsets.push(info.offset));
        seen.sub.onGap((g) => void seen.gaps.push(g));
        const ok = await seen.sub.ready.then(
          () => true,
          (e: DrpcError) => (assert.equal(e.code, Code.InternalServerError, 'only a full family refuses a subscribe'), false),
        );
        if (ok) {
          seen.from = seen.sub.offset;
          live.set(key, seen);
        }
      } else if (live.has(key)) {
        const seen = live.get(key)!;
        live.delete(key);
        await until(() => seen.sub.offset >= (published.get(name) ?? 0), `${key}: what was published before it leaves`);
        await seen.sub.unsubscribe();
        finished.push([name, seen, seen.sub.offset]);
      }
      if (step % 25 === 0) await delay(1);
    }
    for (const [key, seen] of live) {
      const name = key.slice(key.indexOf(' ') + 1);
      await until(() => seen.sub.offset >= (published.get(name) ?? 0), `${key}: everything published to it`);
      finished.push([name, seen, seen.sub.offset]);
    }
    assert.ok(finished.length > 20, `${finished.length} subscriptions checked (seed ${seed})`);
    assert.ok(made.size > names.length + 10, `topics were dropped and made again: ${made.size} for ${names.length} names`);
    for (const [name, seen, last] of finished) {
      // A subscriber's topic is never dropped under it: it gets every offset after it joined, once, in order.
      assert.deepEqual(seen.gaps, [], `${name}: no gap while subscribed (seed ${seed})`);
      assert.deepEqual(
        seen.offsets,
        Array.from({ length: last - seen.from }, (_, i) => seen.from + i + 1),
        `${name}: each offset once, in order (seed ${seed})`,
      );
    }
  });

  test('a streamed answer through a topic of its own (the README recipe) survives a dropped connection: every chunk once, in order', async (t) => {
    const h = new Harness(t);
    const { ep, url } = await h.endpoint();
    ep.topic('/answer/*', { history: { count: 10_000, maxAgeMs: 600_000 } });
    let runs = 0;
    ep.route('/ask', async (body) => {
      runs++;
      const { id, words } = body as { id: string; words: number };
      for (let i = 1; i <= words; i++) {
        ep.publish(`/answer/${id}`, `w${i}`);
        await delay(2); // a token at a time, as a model writes them
      }
      ep.publish(`/answer/${id}`, null); // the end
      return { words };
    });
    const { client: c, log } = h.logged(url);
    const id = 'q-7f3a';
    const chunks: string[] = [];
    const gaps: Gap[] = [];
    let ended!: () => void;
    const end = new Promise<void>((r) => (ended = r));
    const sub = c.subscribe(`/answer/${id}`, (chunk) => (chunk === null ? ended() : void chunks.push(chunk as string)), { since: 0 });
    sub.onGap((g) => void gaps.push(g));
    await sub.ready;
    const answer = c.call('/ask', { id, words: 60 });
    await until(() => chunks.length >= 15, 'the first chunks');
    ep.sessions.kick((await onlySession(ep)).id, kick); // the connection drops mid-answer
    await log.waitFor('reconnecting');
    await end;
    assert.deepEqual(await answer, { words: 60 }, 'the call itself is durable: its reply arrives after the reconnect');
    assert.equal(runs, 1, 'and it ran once');
    assert.deepEqual(
      chunks,
      Array.from({ length: 60 }, (_, i) => `w${i + 1}`),
      'every chunk once, in order',
    );
    assert.deepEqual(gaps, []);
    await sub.unsubscribe();
  });

  test('a full family whose every topic has a subscriber refuses a new one with 500; an existing one still works', async (t) => {
    const h = new Harness(t);
    const { ep, url } = await h.endpoint();
    ep.topic('/doc/*', { maxTopics: 2 });
    const c = h.client(url);
    await c.subscribe('/doc/1', () => {}).ready;
    await c.subscribe('/doc/2', () => {}).ready;
    const full = await rejection(c.subscribe('/doc/3', () => {}).ready);
    assert.equal(full.code, Code.InternalServerError);
    assert.match(full.causeText, /topic family "\/doc\/\*" is full: 2 topics with subscribers \(maxTopics\)/);
    assert.throws(
      () => ep.publish('/doc/3', 'x'),
      (e: DrpcError) => e.code === Code.InternalServerError,
    );
    assert.equal(ep.publish('/doc/1', 'still fine'), 1);
  });
});
