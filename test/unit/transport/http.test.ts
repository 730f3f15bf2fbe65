/**
 * The client's HTTP transport against a scripted fetch: a stream that breaks is reopened after the
 * last event id received, replayed frames are delivered once, and POSTs carry numbered frames.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { HttpTransport } from '../../../src/transport/http.ts';
import type { Frame } from '../../../src/proto/proto.ts';
import { batchEvent } from '../../../adapters/node/http-transport.ts';

/** A streamed response whose chunks the test pushes, and can break. */
function stream() {
  let ctl!: ReadableStreamDefaultController<Uint8Array>;
  const body = new ReadableStream<Uint8Array>({ start: (c) => void (ctl = c) });
  const enc = new TextEncoder();
  return {
    response: new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream' } }),
    push: (text: string) => ctl.enqueue(enc.encode(text)),
    fail: () => ctl.error(new Error('connection reset')),
  };
}

/** A fetch whose GETs are streams the test drives (`streams`, newest last; their URLs in `gets`) and whose other requests `answer` answers. */
function scriptedFetch(answer: (url: string, init: RequestInit) => Response) {
  const streams: ReturnType<typeof stream>[] = [];
  const gets: string[] = [];
  const fetch = (async (input: string | URL, init?: RequestInit) => {
    const url = String(input);
    if (init?.method !== 'GET') return answer(url, init ?? {});
    gets.push(url);
    const s = stream();
    streams.push(s);
    return s.response;
  }) as typeof globalThis.fetch;
  return { fetch, streams, gets };
}

const until = async (cond: () => boolean, what: string) => {
  for (let i = 0; i < 400 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(cond(), `timed out waiting for ${what}`);
};

describe('HttpTransport (client)', () => {
  it('reopens a broken stream after the last id it has, drops what is replayed, and numbers the frames it posts', async () => {
    const posts: { url: string; up: string; ack: string; body: string }[] = [];
    const { fetch, streams, gets } = scriptedFetch((url, init) => {
      const headers = (init.headers ?? {}) as Record<string, string>;
      if (init.method === 'POST') posts.push({ url, up: headers['x-drpc-up']!, ack: headers['x-drpc-ack']!, body: String(init.body) });
      return new Response(null, { status: 204 });
    });

    const t = new HttpTransport('http://host/rpc?_drpc=c1', { fetch, retryFor: 2000 });
    const opening = t.open();
    await until(() => streams.length === 1, 'the first GET');
    streams[0]!.push('event: open\ndata: {"sid":"S1","ping":60000}\n\nid: 1\ndata: one\n\nid: 2\ndata: two\n\n');
    await opening;
    const got: Frame[] = [];
    t.listen({ receiveFrame: (f) => void got.push(f), transportClosed: () => {} });
    assert.deepEqual(got, ['one', 'two']);

    streams[0]!.fail(); // the connection breaks
    await until(() => streams.length === 2, 'the stream to be reopened');
    assert.match(gets[1]!, /_drpc_s=S1/);
    assert.match(gets[1]!, /_drpc_ack=2/, 'after the last id received');
    assert.doesNotMatch(gets[1]!, /_drpc=c1/, 'the client id only opens a session');
    streams[1]!.push('id: 2\ndata: two\n\nid: 3\ndata: three\n\n'); // the endpoint replays what it was not told about
    await until(() => got.length === 3, 'the next frame');
    assert.deepEqual(got, ['one', 'two', 'three'], 'the replayed one is not delivered twice');

    // A POST's binary replies come as one batch event, numbered back from its id; a replayed batch
    // delivers only the frames after the last one received.
    streams[1]!.push(batchEvent(5, [new Uint8Array([4, 4]), new Uint8Array([5])]));
    await until(() => got.length === 5, 'the batch');
    streams[1]!.push(batchEvent(6, [new Uint8Array([4, 4]), new Uint8Array([5]), new Uint8Array(0)]));
    await until(() => got.length === 6, 'the replayed batch');
    assert.deepEqual(
      got.slice(3).map((f) => (typeof f === 'string' ? f : [...f])),
      [[4, 4], [5], []],
    );

    t.send('{"a":1}');
    t.send('{"b":2}');
    await until(() => posts.length >= 1, 'a POST');
    assert.equal(posts[0]!.up, '1');
    assert.equal(posts[0]!.body, '{"a":1}\n{"b":2}', 'frames queued in one turn share a POST');
    assert.equal(posts[0]!.ack, '6');
    t.send('{"c":3}');
    await until(() => posts.some((p) => p.up === '3'), 'the next POST, numbered after the first two frames');
    t.close('done');
  });

  it('a refused open is a dial failure (105) naming the endpoint status', async () => {
    const fetch = (async () =>
      new Response('{"code":403,"msg":"Forbidden","cause":"websocket only here"}', { status: 403 })) as unknown as typeof globalThis.fetch;
    const t = new HttpTransport('http://host/rpc', { fetch });
    await assert.rejects(t.open(), (err: { code: number; message: string; causeText: string }) => {
      assert.equal(err.code, 105);
      assert.match(err.causeText, /websocket only here/);
      return true;
    });
  });

  it('a POST that finds its session gone (404) closes as a lost connection, with no status; any other refusal closes with it', async () => {
    for (const [status, body, details] of [
      [404, '{"code":404,"msg":"Not Found","cause":"no http session \\"S1\\" (closed or expired: open a new one)"}', undefined],
      [413, '{"code":400,"msg":"Bad Message","cause":"body too big"}', true],
    ] as const) {
      const { fetch, streams } = scriptedFetch(() => new Response(body, { status }));
      const t = new HttpTransport('http://host/rpc', { fetch, retryFor: 2000 });
      const opening = t.open();
      await until(() => streams.length === 1, 'the GET');
      streams[0]!.push('event: open\ndata: {"sid":"S1","ping":60000}\n\n');
      await opening;
      let closed = '';
      t.listen({ receiveFrame: () => {}, transportClosed: (reason) => void (closed = reason) });
      t.send('{"call":1}');
      await until(() => closed !== '', 'the transport to close');
      assert.match(closed, status === 404 ? /no http session/ : /body too big/);
      assert.equal(t.closeDetails === undefined, details === undefined, `HTTP ${status}: close details ${JSON.stringify(t.closeDetails)}`);
    }
  });
});
