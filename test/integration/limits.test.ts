/** Every limit refuses with a clear drpc status and leaves everyone else alone. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Code } from '../../src/status.ts';
import { Harness, Settlements, delay, rawDial, rejection, until, within, TRANSPORT } from './helpers.ts';

describe('limits', { timeout: 30_000 }, () => {
  test('origins allow-list: another Origin gets HTTP 403 with a drpc status body; listed or absent Origin passes', async (t) => {
    const h = new Harness(t);
    const { url } = await h.endpoint({ origins: ['https://app.example'] });
    const refused = await rawDial(url, { origin: 'https://evil.example' });
    assert.equal(refused.open, false);
    if (refused.open) return;
    assert.equal(refused.status, 403);
    assert.deepEqual(JSON.parse(refused.body), {
      code: Code.Unauthorized,
      msg: 'Unauthorized',
      cause: 'origin https://evil.example is not allowed',
    });
    for (const options of [{ origin: 'https://app.example' }, {}]) {
      const ok = await rawDial(url, options);
      assert.equal(ok.open, true);
      if (ok.open) ok.ws.terminate();
    }
  });

  test('maxConnections: one more gets HTTP 503; a freed slot is usable again; a client sees a dial failure', async (t) => {
    const h = new Harness(t);
    const { ep, url } = await h.endpoint({ maxConnections: 2 });
    ep.route('/hi', () => 'hi');
    const a = h.client(url);
    const b = h.client(url);
    await Promise.all([a.ready(), b.ready()]);
    const refused = await rawDial(url);
    assert.equal(refused.open, false);
    if (refused.open) return;
    assert.equal(refused.status, 503);
    assert.deepEqual(JSON.parse(refused.body), {
      code: Code.InternalServerError,
      msg: 'Internal Server Error',
      cause: 'too many connections (limit 2)',
    });

    const { client: c, log } = h.logged(url, { reconnect: { min: 10, max: 20 } });
    const rec = await log.waitFor('reconnecting');
    assert.equal(rec.status?.code, Code.DialFailed);
    await a.close();
    await c.ready(); // the freed slot
    assert.equal(await c.call('/hi'), 'hi');
    assert.equal(ep.sessions.count, 2);
  });

  test('maxConnections holds against upgrades that arrive together while an async verifyUpgrade runs', async (t) => {
    const h = new Harness(t);
    const { url } = await h.endpoint({ maxConnections: 1, verifyUpgrade: () => delay(30) });
    const outcomes = await Promise.all([rawDial(url), rawDial(url), rawDial(url)]);
    for (const o of outcomes) if (o.open) h.defer(() => o.ws.terminate(), true);
    assert.equal(outcomes.filter((o) => o.open).length, 1);
    assert.deepEqual(
      outcomes.filter((o) => !o.open).map((o) => !o.open && o.status),
      [503, 503],
    );
  });

  test('maxFrameSize: an oversized frame closes that session only; its call settles 102; the endpoint serves on', async (t) => {
    const h = new Harness(t);
    const { ep, url } = await h.endpoint({ maxFrameSize: 1024 });
    ep.route('/echo', (b) => b);
    const other = h.client(url);
    const { client: big, log } = h.logged(url);
    await Promise.all([other.ready(), big.ready()]);
    const settled = new Settlements();
    const err = await rejection(settled.track('big', big.call('/echo', 'x'.repeat(4096))));
    assert.equal(err.code, Code.ConnClosed);
    const lost = await log.waitFor('reconnecting');
    assert.match(lost.reason, TRANSPORT === 'http' ? /413|exceeds/ : /1009/, 'closed as "message too big"');
    assert.equal(lost.status?.code, Code.BadMessage, 'a 1009 close reads as 400');
    assert.equal(await other.call('/echo', 'small'), 'small');
    await log.waitFor('open', log.events.indexOf(lost));
    assert.equal(await big.call('/echo', 'y'.repeat(900)), 'y'.repeat(900));
    await delay(20);
    assert.equal(settled.count('big'), 1);
  });

  test("the client's maxFrameSize: an oversized reply ends the session with 400, and the client redials", async (t) => {
    const h = new Harness(t);
    const { ep, url } = await h.endpoint();
    ep.route('/big', (n: any) => 'z'.repeat(n));
    const { client: c, log } = h.logged(url, { maxFrameSize: 2048 });
    assert.equal(((await c.call('/big', 1000)) as string).length, 1000);
    const err = await rejection(c.call('/big', 5000));
    assert.equal(err.code, Code.ConnClosed);
    const lost = await log.waitFor('reconnecting');
    assert.equal(lost.status?.code, Code.BadMessage);
    assert.match(lost.status!.msg, /exceeds the 2048-byte limit/);
    await log.waitFor('open', log.events.indexOf(lost));
    assert.equal(((await c.call('/big', 10)) as string).length, 10);
  });

  test('maxConcurrentCalls: calls beyond the cap get 500 "too many concurrent calls"; the session survives', async (t) => {
    const h = new Harness(t);
    const { ep, url } = await h.endpoint({ maxConcurrentCalls: 2 });
    const release: (() => void)[] = [];
    ep.route('/hold', () => new Promise<string>((r) => release.push(() => r('done'))));
    ep.route('/quick', () => 'quick');
    const c = h.client(url);
    await c.ready();
    const held = [c.call('/hold'), c.call('/hold')];
    await until(() => release.length === 2, 'two running handlers');
    const refused = await rejection(c.call('/quick'));
    assert.equal(refused.code, Code.InternalServerError);
    assert.equal(refused.message, 'too many concurrent calls (limit 2)');
    for (const r of release) r();
    assert.deepEqual(await Promise.all(held), ['done', 'done']);
    assert.equal(await c.call('/quick'), 'quick');
    assert.equal(c.state, 'open');
  });

  test('maxSubscriptions: a subscribe past it is refused with 500 and makes no topic; the session keeps the others', async (t) => {
    const h = new Harness(t);
    const { ep, url } = await h.endpoint({ maxSubscriptions: 2 });
    ep.topic('/room/*');
    const c = h.client(url);
    const got: unknown[] = [];
    const one = c.subscribe('/room/1', (m) => void got.push(m));
    await one.ready;
    await c.subscribe('/room/2', () => {}).ready;
    const refused = await rejection(c.subscribe('/room/3', () => {}).ready);
    assert.equal(refused.code, Code.InternalServerError);
    assert.match(refused.causeText, /too many subscriptions: the session has 2 \(maxSubscriptions\)/);
    assert.equal(ep.topics.get('/room/3'), undefined, 'no topic made for it');
    ep.publish('/room/1', 'still here');
    await until(() => got.length === 1, 'a message on a subscription it kept');
    await one.unsubscribe();
    await c.subscribe('/room/3', () => {}).ready; // a freed place is usable again
    await assert.rejects(h.endpoint({ maxSubscriptions: 0 }), /maxSubscriptions/);
  });

  test('maxPendingCalls on the client: calls beyond the cap fail at once with 104', async (t) => {
    const h = new Harness(t);
    const { ep, url } = await h.endpoint();
    const release: (() => void)[] = [];
    ep.route('/hold', () => new Promise<string>((r) => release.push(() => r('done'))));
    const c = h.client(url, { maxPendingCalls: 2 });
    await c.ready();
    const held = [c.call('/hold'), c.call('/hold')];
    const refused = await within(rejection(c.call('/hold')), 200, 'the refusal');
    assert.equal(refused.code, Code.WriteFailed);
    assert.equal(refused.message, 'too many pending calls (limit 2)');
    await until(() => release.length === 2, 'two handlers');
    for (const r of release) r();
    assert.deepEqual(await Promise.all(held), ['done', 'done']);
    const again = c.call('/hold');
    await until(() => release.length === 3, 'a third handler after the others settled');
    release[2]!();
    assert.equal(await again, 'done');
  });
});
