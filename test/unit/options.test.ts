/**
 * Options are checked where they are given: a bad URL or a numeric option out of range fails with
 * 400 naming it, before anything is dialed, listened on or scheduled.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkNumbers } from '../../src/options.ts';
import { connect } from '../../src/client.ts';
import { createEndpoint } from '../../adapters/node/endpoint.ts';
import { dialTcp } from '../../adapters/node/tcp.ts';
import { ManualClock } from '../../src/clock.ts';
import type { DrpcError } from '../../src/status.ts';

const is400 = (re: RegExp) => (e: DrpcError) => e.code === 400 && re.test(e.message);

describe('checkNumbers', () => {
  it('passes undefined, numbers at or above the least, Infinity; whole numbers where asked', () => {
    checkNumbers([
      ['a', undefined, 0],
      ['b', 0, 0],
      ['c', 2.5, 1],
      ['d', Infinity, 0, true],
      ['e', 7, 1, true],
    ]);
  });

  it('fails NaN, a value below the least, a string and a fraction where a whole number is asked, naming the option', () => {
    for (const [v, integer] of [[NaN], [-1], ['5'], [1.5, true]] as [unknown, boolean?][])
      assert.throws(() => checkNumbers([['x.y', v, 0, integer]]), is400(/^option x\.y must be a (whole )?number ≥ 0, got /), String(v));
  });
});

describe('connect() options', () => {
  it('refuses a URL it cannot dial (here a relative one too: there is no page to be relative to), before dialing', () => {
    for (const url of ['not a url', '/rpc', 'ftp://host/rpc'])
      assert.throws(() => connect(url), is400(/is not a ws:, wss:, http: or https: URL/), url);
  });

  it('refuses numeric options out of range (a NaN backoff would redial in a hot loop)', () => {
    const clock = new ManualClock();
    const url = 'ws://127.0.0.1:1/rpc';
    assert.throws(() => connect(url, { clock, reconnect: { min: NaN } }), is400(/option reconnect\.min must be a number ≥ 0, got NaN/));
    assert.throws(() => connect(url, { clock, reconnect: { attempts: 1.5 } }), is400(/option reconnect\.attempts/));
    assert.throws(() => connect(url, { clock, timeout: -1 }), is400(/option timeout/));
    assert.throws(() => connect(url, { clock, maxFrameSize: 0 }), is400(/option maxFrameSize/));
    assert.throws(() => connect(url, { clock, offlineQueue: -3 }), is400(/option offlineQueue/));
  });
});

describe('createEndpoint() and topic() options', () => {
  it('refuses numeric options out of range (a NaN frame limit would never apply)', () => {
    assert.throws(() => createEndpoint({ maxFrameSize: NaN }), is400(/option maxFrameSize/));
    assert.throws(() => createEndpoint({ http: { maxAgeMs: 0 } }), is400(/option http\.maxAgeMs/));
    assert.throws(() => createEndpoint({ http: { relayMs: 0 } }), is400(/option http\.relayMs/));
    assert.throws(() => createEndpoint({ replyCache: { maxEntries: -1 } }), is400(/option replyCache\.maxEntries/));
    assert.throws(() => createEndpoint({ slowConsumers: { maxQueued: NaN } }), is400(/option slowConsumers\.maxQueued/));
  });

  it('refuses a topic with an empty name or a history bound out of range', () => {
    const ep = createEndpoint();
    assert.throws(() => ep.topic('' as never), is400(/a topic needs a non-empty name/));
    assert.throws(() => ep.topic('t' as never, { history: { count: -1 } }), is400(/option history\.count/));
    assert.throws(() => ep.topic('t' as never, { history: { maxAgeMs: NaN } }), is400(/option history\.maxAgeMs/));
    assert.equal(ep.topic('t' as never, { history: { count: 0 } }).name, 't');
    // A family's options are checked when it is declared, not when a client first subscribes.
    assert.throws(() => ep.topic('/f/*' as never, { history: { count: -1 } }), is400(/option history\.count/));
    assert.throws(() => ep.topic('/g/*' as never, { maxTopics: 0 }), is400(/option maxTopics/));
  });
});

describe('dialTcp() options', () => {
  it('refuses a port or bound out of range before opening a socket', async () => {
    await assert.rejects(dialTcp({ port: NaN }), is400(/option port must be a whole number ≥ 0, got NaN/));
    await assert.rejects(dialTcp({ port: 1, maxFrameSize: NaN }), is400(/option maxFrameSize/));
    await assert.rejects(dialTcp({ port: 1, timeout: -1 }), is400(/option timeout/));
  });
});
