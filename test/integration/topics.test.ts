import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Code } from '../../src/status.ts';
import type { Gap } from '../../src/topics.ts';
import { Harness, delay, onlySession, rejection, until } from './helpers.ts';
import { inspect } from '../../src/inspect.ts';
import { SUBSCRIBE_METHOD } from '../../src/topics.ts';

const kick = { code: Code.InternalServerError, msg: 'Internal Server Error', cause: 'test kills the socket' };

describe('topics: offsets, history and resume', { timeout: 30_000 }, () => {
  test('a subscriber gets what is published after it subscribed, with offset and epoch', async (t) => {
    const h = new Harness(t);
    const { ep, url } = await h.endpoint();
    const topic = ep.topic('/chat/lobby');
    ep.publish('/chat/lobby', 'before'); // not delivered: a new subscriber starts at what comes next
    const c = h.client(url);
    const got: [unknown, number, string][] = [];
    const sub = c.subscribe('/chat/lobby', (m, info) => void got.push([m, info.offset, info.epoch]));
    await sub.ready;
    for (let i = 1; i <= 3; i++) assert.equal(ep.publish('/chat/lobby', { i }), i + 1);
    await until(() => got.length === 3, 'three messages');
    assert.deepEqual(
      got.map(([m, o]) => [m, o]),
      [
        [{ i: 1 }, 2],
        [{ i: 2 }, 3],
        [{ i: 3 }, 4],
      ],
    );
    assert.ok(got.every(([, , e]) => e === topic.epoch));
    assert.equal(sub.offset, 4);
  });

  test('since: a subscriber starts with the retained history after an offset, then goes on live; too far back is a gap', async (t) => {
    const h = new Harness(t);
    const { ep, url } = await h.endpoint();
    ep.topic('/log', { history: { count: 3 } });
    for (let i = 1; i <= 5; i++) ep.publish('/log', i); // history keeps 3, 4, 5
    const c = h.client(url);
    const all: number[] = [];
    const gaps: Gap[] = [];
    const fromStart = c.subscribe('/log', (n: any) => void all.push(n), { since: 0 });
    fromStart.onGap((g) => void gaps.push(g));
    await fromStart.ready;
    assert.deepEqual(all, [3, 4, 5], 'what the history still keeps');
    assert.deepEqual(
      gaps.map((g) => [g.from, g.to]),
      [[1, 2]],
      'and a gap for what it no longer keeps',
    );
    ep.publish('/log', 6);
    await until(() => all.length === 4, 'the live message');
    assert.deepEqual(all, [3, 4, 5, 6]);

    ep.topic('/tail', { history: { count: 100 } });
    for (let i = 1; i <= 5; i++) ep.publish('/tail', i);
    const tail: number[] = [];
    await c.subscribe('/tail', (n: any) => void tail.push(n), { since: 3 }).ready;
    assert.deepEqual(tail, [4, 5]);
    ep.topic('/tail2');
    ep.publish('/tail2', 1);
    const past: number[] = [];
    await c.subscribe('/tail2', (n: any) => void past.push(n), { since: 50 }).ready;
    ep.publish('/tail2', 2);
    await until(() => past.length === 1, 'a since past the end starts at the end: the next message is delivered');
    assert.deepEqual(past, [2]);
    assert.throws(() => c.subscribe('/x', () => {}, { since: -1 }), /since must be an offset/);

    // after a reconnect it resumes from the last offset delivered, not from `since` again
    const s = await onlySession(ep);
    ep.sessions.kick(s.id, kick);
    await until(() => ep.sessions.count === 1 && ep.sessions.list()[0] !== s, 'the reconnect');
    ep.publish('/log', 7);
    await until(() => all.length === 5, 'the message after the reconnect');
    assert.deepEqual(all, [3, 4, 5, 6, 7], 'nothing replayed twice');
  });

  test('resume after the socket dies: what was published meanwhile arrives once, in order', async (t) => {
    const h = new Harness(t);
    const { ep, url } = await h.endpoint();
    ep.topic('/feed');
    const { client: c, log } = h.logged(url);
    const got: number[] = [];
    const gaps: unknown[] = [];
    c.on('gap', (g) => void gaps.push(g));
    const sub = c.subscribe('/feed', (m) => void got.push(m as number));
    await sub.ready;
    for (let i = 1; i <= 5; i++) ep.publish('/feed', i);
    await until(() => got.length === 5, 'the first five');
    const s = await onlySession(ep);
    ep.sessions.kick(s.id, kick);
    for (let i = 6; i <= 10; i++) ep.publish('/feed', i); // nobody is listening now
    await log.waitFor('reconnecting');
    await log.waitFor('open', log.events.length - 1);
    await until(() => got.length === 10, 'the replay');
    for (let i = 11; i <= 12; i++) ep.publish('/feed', i);
    await until(() => got.length === 12, 'live again');
    await delay(20);
    assert.deepEqual(
      got,
      Array.from({ length: 12 }, (_, i) => i + 1),
    );
    assert.deepEqual(gaps, []);
  });

  test('when the history no longer reaches back, the client gets a gap with the missing range', async (t) => {
    const h = new Harness(t);
    const { ep, url } = await h.endpoint();
    ep.topic('/short', { history: { count: 3 } });
    const { client: c, log } = h.logged(url);
    const got: number[] = [];
    const gaps: (Gap & { topic: string })[] = [];
    const sub = c.subscribe('/short', (m) => void got.push(m as number));
    sub.onGap((g) => void gaps.push(g));
    await sub.ready;
    ep.publish('/short', 1);
    await until(() => got.length === 1, 'the first');
    ep.sessions.kick((await onlySession(ep)).id, kick);
    for (let i = 2; i <= 10; i++) ep.publish('/short', i); // history keeps 8, 9, 10
    await log.waitFor('reconnecting');
    await until(() => got.length === 4, 'what the history still had');
    assert.deepEqual(got, [1, 8, 9, 10]);
    assert.deepEqual(gaps, [{ topic: '/short', from: 2, to: 7 }]);
  });

  test('a reset history (new epoch, e.g. an endpoint restart) is reported as a gap, never silently', async (t) => {
    const h = new Harness(t);
    const first = await h.endpoint();
    first.ep.topic('/news');
    const { client: c, log } = h.logged(first.url);
    const got: number[] = [];
    const gaps: Gap[] = [];
    c.on('gap', (g) => void gaps.push(g));
    await c.subscribe('/news', (m) => void got.push(m as number)).ready;
    first.ep.publish('/news', 1);
    first.ep.publish('/news', 2);
    await until(() => got.length === 2, 'two messages');
    await first.ep.close({ drain: 0 });
    const second = await h.endpoint({}, { port: first.port });
    second.ep.topic('/news');
    await log.waitFor('open', log.events.length - 1);
    await until(() => gaps.length === 1, 'the epoch gap');
    assert.equal(gaps[0]!.epochChanged, true);
    assert.equal(gaps[0]!.from, 3);
    second.ep.publish('/news', 100);
    await until(() => got.length === 3, 'the new epoch');
    assert.deepEqual(got, [1, 2, 100]);
  });

  test('a position kept across a reload ({ offset, epoch }) resumes there; after a history reset it is a gap, never the new history passed off as what followed', async (t) => {
    const h = new Harness(t);
    const first = await h.endpoint();
    first.ep.topic('/news');
    const a = h.client(first.url);
    const sub = a.subscribe('/news', () => {});
    await sub.ready;
    for (let i = 1; i <= 3; i++) first.ep.publish('/news', i);
    await until(() => sub.offset === 3, 'three messages');
    const saved = { offset: 2, epoch: sub.epoch! }; // say the page saved its place after message 2
    await a.close();
    const b = h.client(first.url);
    const got: number[] = [];
    await b.subscribe('/news', (m) => void got.push(m as number), { since: saved }).ready;
    assert.deepEqual(got, [3], 'the same history: what came after the saved place');

    // Another history (a restarted endpoint: a new epoch) whose offsets reach past the saved one.
    const second = await h.endpoint();
    second.ep.topic('/news');
    for (let i = 1; i <= 5; i++) second.ep.publish('/news', 100 + i);
    const c = h.client(second.url);
    const after: number[] = [];
    const gaps: Gap[] = [];
    const resumed = c.subscribe('/news', (m) => void after.push(m as number), { since: saved });
    resumed.onGap((g) => void gaps.push(g));
    await resumed.ready;
    assert.deepEqual(after, [], 'nothing of the new history passed off as what followed message 2');
    assert.deepEqual(
      gaps.map((g) => [g.from, g.epochChanged]),
      [[3, true]],
    );
    second.ep.publish('/news', 106);
    await until(() => after.length === 1, 'the next message');
    assert.deepEqual(after, [106]);
    // The offset alone cannot tell the histories apart (why a kept place needs its epoch).
    const blind: number[] = [];
    await h.client(second.url).subscribe('/news', (m) => void blind.push(m as number), { since: 2 }).ready;
    assert.deepEqual(blind, [103, 104, 105, 106]);
  });

  test('unknown topics get 404, unauthorized ones 401; unsubscribe stops delivery', async (t) => {
    const h = new Harness(t);
    const { ep, url } = await h.endpoint();
    ep.topic('/secret', { authorize: (session) => session.data.get('user') === 'admin' });
    ep.topic('/open');
    const c = h.client(url);
    const unknown = await rejection(c.subscribe('/nope', () => {}).ready);
    assert.equal(unknown.code, Code.NotFound);
    assert.match(unknown.causeText, /no topic "\/nope"/);
    const denied = await rejection(c.subscribe('/secret', () => {}).ready);
    assert.equal(denied.code, Code.Unauthorized);
    assert.match(denied.causeText, /not allowed to subscribe to "\/secret"/);
    const got: unknown[] = [];
    const sub = c.subscribe('/open', (m) => void got.push(m));
    await sub.ready;
    ep.publish('/open', 'a');
    await until(() => got.length === 1, 'one message');
    await sub.unsubscribe();
    ep.publish('/open', 'b');
    await delay(30);
    assert.deepEqual(got, ['a']);
    assert.equal(ep.topics.get('/open')!.subscribers.size, 0);
  });

  test('two parts of an app subscribe to one topic: one subscription on the wire, both get every message once, across a reconnect; the last unsubscribe ends it', async (t) => {
    const h = new Harness(t);
    const { ep, url } = await h.endpoint();
    ep.topic('/score', { history: { count: 100 } });
    const tap = inspect();
    const { client: c, log } = h.logged(url, { plugins: [tap] });
    const badge: number[] = [];
    const list: number[] = [];
    const first = c.subscribe('/score', (m) => void badge.push(m as number));
    const second = c.subscribe('/score', (m) => void list.push(m as number));
    await Promise.all([first.ready, second.ready]);
    const subscribes = () => tap.entries.filter((e) => e.kind === 'call' && e.method === SUBSCRIBE_METHOD).length;
    assert.equal(subscribes(), 1, 'one SUBSCRIBE for both');
    assert.equal(ep.topics.get('/score')!.subscribers.size, 1);
    ep.publish('/score', 1);
    await until(() => badge.length === 1 && list.length === 1, 'the first message, to both');
    ep.sessions.kick((await onlySession(ep)).id, kick);
    ep.publish('/score', 2); // while the client is away
    await log.waitFor('reconnecting');
    await log.waitFor('open', log.events.length - 1);
    await until(() => badge.length === 2 && list.length === 2, 'the replay, to both');
    assert.equal(subscribes(), 2, 'one re-SUBSCRIBE for both');
    await first.unsubscribe();
    ep.publish('/score', 3);
    await until(() => list.length === 3, 'the second still listens');
    assert.equal(ep.topics.get('/score')!.subscribers.size, 1, 'still subscribed on the endpoint');
    await second.unsubscribe();
    assert.equal(ep.topics.get('/score')!.subscribers.size, 0, 'the last unsubscribe ends it');
    ep.publish('/score', 4);
    await delay(30);
    assert.deepEqual(badge, [1, 2]);
    assert.deepEqual(list, [1, 2, 3]);
    assert.equal(second.offset, 3);
  });

  test('a closed session leaves every topic it subscribed to', async (t) => {
    const h = new Harness(t);
    const { ep, url } = await h.endpoint();
    const topic = ep.topic('/t');
    const c = h.client(url);
    await c.subscribe('/t', () => {}).ready;
    assert.equal(topic.subscribers.size, 1);
    await c.close();
    await until(() => topic.subscribers.size === 0, 'the session to leave');
  });
});
