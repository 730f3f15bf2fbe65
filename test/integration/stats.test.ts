/** ep.stats(): what an endpoint holds now, for a health check or a metrics scrape. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { serveCalls } from '../../src/serve.ts';
import { Harness, until } from './helpers.ts';

describe('endpoint stats', { timeout: 30_000 }, () => {
  test('connections, sessions, running handlers, pending server → client calls, topics, subscriptions and the reply cache', async (t) => {
    const h = new Harness(t);
    const { ep, url } = await h.endpoint();
    const empty = ep.stats();
    assert.deepEqual(
      { ...empty, replyCache: undefined },
      {
        connections: 0,
        sessions: 0,
        runningHandlers: 0,
        pendingCalls: 0,
        topics: 0,
        subscriptions: 0,
        slowConsumers: { sessions: 0, bytes: 0, dropped: 0, closed: 0 },
        replyCache: undefined,
      },
    );
    assert.deepEqual(empty.replyCache, { clients: 0, bytes: 0 });
    ep.topic('/a');
    ep.topic('/b');
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    ep.route('/hold', () => gate.then(() => 'done'));
    const reader = h.client(url);
    await Promise.all([reader.subscribe('/a', () => {}).ready, reader.subscribe('/b', () => {}).ready]);
    const asked = h.client(url, { serve: serveCalls });
    // the page answers only when the endpoint cancels the call
    asked.route('/ask', (_b, ctx) => new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason))));
    await asked.ready();
    const holding = asked.call('/hold');
    await until(() => ep.sessions.list().some((x) => x.runningHandlers > 0), 'the held call to run');
    const caller = ep.sessions.list().find((x) => x.runningHandlers > 0)!;
    const ask = new AbortController();
    void caller.call('/ask', undefined, { signal: ask.signal }).catch(() => {});
    const busy = ep.stats();
    assert.equal(busy.connections, 2);
    assert.equal(busy.sessions, 2);
    assert.equal(busy.runningHandlers, 1, 'the held call');
    assert.equal(busy.pendingCalls, 1, 'the call to the page');
    assert.equal(busy.topics, 2);
    assert.equal(busy.subscriptions, 2);
    assert.equal(busy.replyCache?.clients, 2, 'each client that called has a record of its calls');
    release();
    ask.abort();
    assert.equal(await holding, 'done');
    await reader.close();
    await until(() => ep.stats().sessions === 1, 'the reader gone');
    assert.equal(ep.stats().subscriptions, 0);
    assert.equal(ep.stats().connections, 1);
  });
});
