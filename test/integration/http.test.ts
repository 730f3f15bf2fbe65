/**
 * The HTTP fallback's own behavior: sessions over POST + a streamed response, the stream recycled
 * without loss, the gateway (curl), CORS, and bad requests answered with 4xx and a drpc status.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Code, DrpcError } from '../../src/status.ts';
import { http } from '../../src/transport/http.ts';
import { serveCalls } from '../../src/serve.ts';
import { Harness, delay, onlySession, until } from './helpers.ts';

describe('http fallback', { timeout: 30_000 }, () => {
  test('a client forced onto HTTP calls, receives pushes and answers server → client calls', async (t) => {
    const h = new Harness(t);
    const { ep, url } = await h.endpoint();
    ep.route('/math/add', ({ a, b }: any) => a + b);
    const c = h.client(url, { transports: [http], serve: serveCalls });
    await c.ready();
    assert.equal(c.transport, 'http');
    assert.equal(await c.call('/math/add', { a: 1, b: 2 }), 3);
    const got: unknown[] = [];
    c.onPush('/news', (b) => void got.push(b));
    c.route('/ui/ask', (q: any) => `answer to ${q}`);
    const s = await onlySession(ep);
    await s.push('/news', 'one');
    assert.equal(await s.call('/ui/ask', 'q1'), 'answer to q1');
    await until(() => got.length === 1, 'the push');
    const many = await Promise.all(Array.from({ length: 100 }, (_, i) => c.call('/math/add', { a: i, b: 1 })));
    assert.deepEqual(
      many,
      Array.from({ length: 100 }, (_, i) => i + 1),
    );
  });

  test('the stream is recycled after its max age without losing or doubling a message', async (t) => {
    const h = new Harness(t);
    const { ep, url } = await h.endpoint({ http: { maxAgeMs: 50 } });
    const topic = ep.topic('ticks');
    const c = h.client(url, { transports: [http] });
    const got: number[] = [];
    c.subscribe('ticks', (n: any) => void got.push(n));
    await c.ready();
    await delay(30);
    for (let i = 1; i <= 200; i++) {
      topic.publish(i);
      if (i % 20 === 0) await delay(15);
    }
    await until(() => got.length >= 200, 'every tick', 5000);
    await delay(50);
    assert.deepEqual(
      got,
      Array.from({ length: 200 }, (_, i) => i + 1),
    );
  });

  test('the gateway: a plain POST calls a route; 299 carries a drpc error status', async (t) => {
    const h = new Harness(t);
    const { ep, url } = await h.endpoint();
    ep.route('/math/add', ({ a, b }: any) => a + b);
    const base = url.replace('ws:', 'http:');
    const ok = await fetch(`${base}/math/add`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1,"b":2}' });
    assert.equal(ok.status, 200);
    assert.equal(await ok.text(), '3');
    const seqd = await fetch(`${base}/math/add`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-seq': '7', 'x-mtype': '1' },
      body: '{"a":2,"b":2}',
    });
    assert.deepEqual(
      [seqd.status, seqd.headers.get('x-seq'), seqd.headers.get('x-mtype'), await seqd.text()],
      [200, '7', '2', '4'],
      "drpc's HTTP proto headers",
    );
    const push = await fetch(`${base}/math/add`, { method: 'POST', headers: { 'x-mtype': '3' }, body: '{}' });
    assert.equal(push.status, 299);
    assert.match(((await push.json()) as { cause: string }).cause, /takes CALLs/);
    const badMeta = await fetch(`${base}/math/add`, { method: 'POST', headers: { 'x-meta': '{nope' }, body: '{}' });
    assert.deepEqual([badMeta.status, ((await badMeta.json()) as { code: number }).code], [299, Code.BadMessage]);
    const missing = await fetch(`${base}/math/sub`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(missing.status, 299);
    assert.equal(((await missing.json()) as { code: number }).code, Code.NotFound);
  });

  test("the gateway: a client that goes away aborts the handler's signal", async (t) => {
    const h = new Harness(t);
    const { ep, url } = await h.endpoint();
    let aborted = false;
    ep.route('/slow', async (_, ctx) => {
      ctx.signal.addEventListener('abort', () => (aborted = true));
      await delay(300);
      return 1;
    });
    const ac = new AbortController();
    const call = fetch(`${url.replace('ws:', 'http:')}/slow`, { method: 'POST', body: '{}', signal: ac.signal }).catch(() => 'gone');
    await delay(50);
    ac.abort();
    assert.equal(await call, 'gone');
    await until(() => aborted, 'the handler to hear it');
  });

  test('CORS: a preflight from an allowed origin is answered and cached; other origins get no grant', async (t) => {
    const h = new Harness(t);
    const { ep, url } = await h.endpoint({ origins: ['http://app.example'] });
    ep.route('/math/add', ({ a, b }: any) => a + b);
    const base = url.replace('ws:', 'http:');
    const pre = await fetch(base, {
      method: 'OPTIONS',
      headers: { origin: 'http://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'x-drpc-up' },
    });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers.get('access-control-allow-origin'), 'http://app.example');
    assert.match(pre.headers.get('access-control-allow-headers') ?? '', /x-drpc-up/);
    assert.equal(pre.headers.get('access-control-max-age'), '600');
    const denied = await fetch(base, { method: 'OPTIONS', headers: { origin: 'http://evil.example' } });
    assert.equal(denied.status, 403);
    const call = await fetch(`${base}/math/add`, {
      method: 'POST',
      headers: { origin: 'http://app.example', 'content-type': 'application/json' },
      body: '{"a":2,"b":3}',
    });
    assert.equal(call.headers.get('access-control-allow-origin'), 'http://app.example');
    assert.equal(await call.text(), '5');
  });

  test('verifyEachRequest: every request of a session passes verifyUpgrade, so its id alone is not enough', async (t) => {
    const tokenCheck = {
      verifyUpgrade: ({ request }: { request: { headers: Record<string, unknown> } }) => {
        if (request.headers['x-token'] !== 'good') throw new DrpcError(Code.Unauthorized, 'Unauthorized', 'no good x-token');
      },
    };
    /** Opens a session with the good token, then POSTs to it (no frames) with `headers`: its HTTP status. */
    const postTo = async (url: string, headers: Record<string, string>) => {
      const base = url.replace(/^ws/, 'http');
      const ctl = new AbortController();
      const res = await fetch(base, { headers: { accept: 'text/event-stream', 'x-token': 'good' }, signal: ctl.signal });
      const reader = res.body!.getReader();
      let text = '';
      while (!text.includes('\n\n')) text += new TextDecoder().decode((await reader.read()).value);
      const sid = (JSON.parse(/data: (.*)/.exec(text)![1]!) as { sid: string }).sid;
      const post = await fetch(`${base}?_drpc_s=${sid}`, {
        method: 'POST',
        headers: { 'content-type': 'application/vnd.drpc.raw', ...headers },
        body: new Uint8Array(0),
      });
      ctl.abort();
      return post.status;
    };
    const h = new Harness(t);
    const checked = await h.endpoint({ ...tokenCheck, http: { verifyEachRequest: true } });
    assert.equal(await postTo(checked.url, { 'x-token': 'good' }), 204);
    assert.equal(await postTo(checked.url, {}), 401, 'the session id without the token');
    const plain = await h.endpoint(tokenCheck);
    assert.equal(await postTo(plain.url, {}), 204, 'by default the session id is a bearer secret');
    // A client that sends the header on every request works as before.
    checked.ep.route('/hi', () => 'hi');
    const c = h.client(checked.url, { transports: [http], headers: { 'x-token': 'good' } });
    assert.equal(await c.call('/hi'), 'hi');
  });

  test('bad requests get 4xx with a drpc status body, never a crash', async (t) => {
    const h = new Harness(t);
    const { ep, url } = await h.endpoint({ http: { maxBody: 1024 } });
    ep.route('/echo', (b) => b);
    const base = url.replace('ws:', 'http:');
    const status = async (res: Response) => [res.status, ((await res.json()) as { code: number }).code];
    assert.deepEqual(await status(await fetch(base, { method: 'PUT' })), [405, Code.BadMessage]);
    assert.deepEqual(await status(await fetch(`${base}?_drpc_s=nope`, { method: 'POST', body: 'x' })), [404, Code.NotFound]);
    assert.deepEqual(await status(await fetch(base)), [426, Code.BadMessage], 'a GET without Accept: text/event-stream');
    assert.deepEqual(await status(await fetch(`${base}/echo`, { method: 'POST', body: 'x'.repeat(2048) })), [413, Code.BadMessage]);
    assert.deepEqual(await status(await fetch(`${base}/echo`, { method: 'GET' })), [405, Code.BadMessage]);
    const c = h.client(url, { transports: [http] });
    await c.ready();
    assert.equal(await c.call('/echo', 'still fine'), 'still fine');
  });
});

describe('fallback and upgrade', { timeout: 30_000 }, () => {
  test('WebSocket refused: the client falls back to HTTP at once, keeps receiving, and moves back to WebSocket without loss', async (t) => {
    const h = new Harness(t);
    let blocked = true;
    let wsAttempts = 0;
    const { ep, url } = await h.endpoint({
      verifyUpgrade: ({ transport }) => {
        if (transport === 'websocket') wsAttempts++;
        if (blocked && transport === 'websocket') throw new DrpcError(Code.Unauthorized, 'Unauthorized', 'websocket blocked by the test');
      },
    });
    const topic = ep.topic('feed');
    let effects = 0;
    ep.route('/charge', async () => (effects++, await delay(30), effects));
    const { client: c, log } = h.logged(url, { transports: ['websocket', http], upgradeInterval: 150 });
    const got: number[] = [];
    c.subscribe('feed', (n: any) => void got.push(n));
    const t0 = Date.now();
    await c.ready();
    assert.equal(c.transport, 'http');
    assert.ok(Date.now() - t0 < 1000, `fell back within ${Date.now() - t0} ms`);
    // what worked is remembered for the process: another client of the same URL goes to HTTP first
    const attempts = wsAttempts;
    const second = h.client(url, { transports: ['websocket', http], upgradeInterval: 0 });
    await second.ready();
    assert.equal(second.transport, 'http');
    assert.equal(wsAttempts, attempts, 'no WebSocket attempt first');
    await second.close();
    await delay(30);
    let n = 0;
    const publisher = (async () => {
      while (n < 300) {
        topic.publish(++n);
        await delay(2);
      }
    })();
    const calls: Promise<unknown>[] = [];
    for (let i = 0; i < 10; i++) calls.push(c.call('/charge'));
    blocked = false; // the next probe opens a WebSocket and the session moves over
    await until(() => c.transport === 'websocket', 'the move back to WebSocket', 5000);
    for (let i = 0; i < 10; i++) calls.push(c.call('/charge'));
    await publisher;
    await Promise.all(calls);
    await until(() => got.length >= 300, 'every message', 5000);
    await delay(50);
    assert.deepEqual(
      got,
      Array.from({ length: 300 }, (_, i) => i + 1),
      'no message lost or doubled across the move',
    );
    assert.equal(effects, 20, 'every call ran once');
    assert.ok(log.events.some((e) => e.state === 'open' && /moved to websocket/.test(e.reason)));
    assert.ok(!log.events.some((e) => e.state === 'reconnecting'), 'a planned move is not a reconnect');
    assert.equal(c.transport, 'websocket');
  });

  test('a Go-style endpoint without HTTP routes: the fallback fails cleanly and WebSocket errors stay the reported cause', async (t) => {
    const h = new Harness(t);
    const { ep, url } = await h.endpoint({
      http: false,
      verifyUpgrade: () => {
        throw new DrpcError(Code.Unauthorized, 'Unauthorized', 'no');
      },
    });
    void ep;
    const { log } = h.logged(url, { transports: ['websocket', http], reconnect: { attempts: 1, min: 5, max: 5 } });
    const rec = await log.waitFor('reconnecting');
    assert.equal(rec.status?.code, Code.DialFailed);
    assert.match(rec.status!.cause, /websocket: .*; http: /);
  });
});
