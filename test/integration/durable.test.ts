/** Calls that survive reconnects: re-sent with the same identity, run once thanks to the reply cache. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Code, DrpcError } from '../../src/status.ts';
import type { Plugin } from '../../src/hooks.ts';
import { Harness, delay, onlySession, rejection, until } from './helpers.ts';

const kick = { code: Code.InternalServerError, msg: 'Internal Server Error', cause: 'test kills the socket' };

describe('durable calls', { timeout: 30_000 }, () => {
  test('a call in flight when the socket dies is re-sent and attached to its running handler: one effect', async (t) => {
    const h = new Harness(t);
    const { ep, url } = await h.endpoint();
    let effects = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    ep.route('/charge', async (n: any) => {
      effects++;
      await gate;
      return n * 2;
    });
    const { client: c, log } = h.logged(url, { durableCalls: true });
    await c.ready();
    const call = c.call('/charge', 21);
    await until(() => effects === 1, 'the handler to start');
    ep.sessions.kick((await onlySession(ep)).id, kick);
    await log.waitFor('reconnecting');
    await log.waitFor('open', log.events.length - 1);
    await delay(30); // the copy reaches the endpoint and attaches to the running handler
    release();
    assert.equal(await call, 42);
    assert.equal(effects, 1);
  });

  test('a reply lost with its socket is answered from the cache when the call comes again', async (t) => {
    const h = new Harness(t);
    let dropped = false;
    const dropFirstReply: Plugin = {
      name: 'drop-first-reply',
      beforeWriteReply: (ctx) => {
        if (dropped || ctx.message.meta['_r'] !== '1') return;
        dropped = true;
        ctx.session.abort(kick); // the handler ran; its reply never leaves
      },
    };
    const { ep, url } = await h.endpoint({ plugins: [dropFirstReply] });
    let effects = 0;
    ep.route('/once', () => ++effects);
    const c = h.client(url, { durableCalls: true });
    assert.equal(await c.call('/once', null), 1);
    assert.equal(dropped, true);
    assert.equal(effects, 1);
    assert.equal(await c.call('/once', null), 2, 'a new call is a new effect');
  });

  test('without durable, a call in flight when the socket dies still settles with 102', async (t) => {
    const h = new Harness(t);
    const { ep, url } = await h.endpoint();
    ep.route('/hang', () => new Promise(() => {}));
    const c = h.client(url, { durableCalls: true });
    await c.ready();
    const call = c.call('/hang', null, { durable: false });
    await delay(20);
    ep.sessions.kick((await onlySession(ep)).id, kick);
    assert.equal((await rejection(call)).code, Code.ConnClosed);
  });

  test('a durable call gives up with its own timeout (408) when the connection does not come back', async (t) => {
    const h = new Harness(t);
    const { ep, url } = await h.endpoint();
    ep.route('/hang', () => new Promise(() => {}));
    const c = h.client(url, { durableCalls: true, reconnect: { min: 20, max: 40 } });
    await c.ready();
    const call = c.call('/hang', null, { timeout: 300 });
    await delay(20);
    await ep.close({ drain: 0 });
    const err = (await rejection(call)) as DrpcError;
    assert.equal(err.code, Code.HandleTimeout);
  });
});
