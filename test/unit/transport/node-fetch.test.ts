/** The HTTP transport's fetch over node:http (its default in Node), against a real server on 127.0.0.1. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { nodeFetch, type FetchLike } from '../../../src/transport/node-fetch.ts';

describe('nodeFetch', () => {
  let server: Server;
  let base = '';
  let fetchLike: FetchLike;
  const streams: ServerResponse[] = [];
  const sockets = new Set<unknown>();

  before(async () => {
    server = createServer((req, res) => {
      sockets.add(req.socket);
      if (req.method === 'GET' && req.url === '/end') return void res.writeHead(200).end('data: last\n\n');
      if (req.method === 'GET') {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('data: one\n\n');
        streams.push(res);
        return;
      }
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (body += c));
      req.on('end', () => {
        if (body === 'refuse') return void res.writeHead(404).end('{"code":404,"msg":"Not Found"}');
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    fetchLike = nodeFetch()!;
  });

  after(() => {
    for (const s of streams) s.destroy();
    server.close();
  });

  it('is the default in Node (and only there)', () => {
    assert.equal(typeof fetchLike, 'function');
    assert.equal(nodeFetch(), fetchLike, 'one instance, one keep-alive pool');
  });

  it('POSTs a body and reads the whole answer: ok and status, text for a refusal', async () => {
    const ok = await fetchLike(`${base}/x`, { method: 'POST', body: new Uint8Array([1, 2, 3]), headers: { 'content-type': 'x/y' } });
    assert.equal(ok.ok, true);
    assert.equal(ok.status, 204);
    const refused = await fetchLike(`${base}/x`, { method: 'POST', body: 'refuse' });
    assert.equal(refused.ok, false);
    assert.equal(refused.status, 404);
    assert.equal(await refused.text(), '{"code":404,"msg":"Not Found"}');
  });

  it('reads a stream chunk by chunk; an abort ends the read, and the pooled sockets keep working', async () => {
    const ctl = new AbortController();
    const res = await fetchLike(`${base}/s`, { method: 'GET', signal: ctl.signal });
    const reader = res.body!.getReader();
    const first = await reader.read();
    assert.equal(new TextDecoder().decode(first.value), 'data: one\n\n');
    const next = reader.read();
    ctl.abort();
    await assert.rejects(next);
    // The keep-alive sockets of earlier POSTs serve the next requests (an abort must not reach them).
    for (let i = 0; i < 5; i++) assert.equal((await fetchLike(`${base}/x`, { method: 'POST', body: 'again' })).status, 204);
    assert.ok(sockets.size <= 3, `few connections for sequential requests (${sockets.size})`);
  });

  it('aborting after a stream ended does not touch its socket, which went back to the pool', async () => {
    const ctl = new AbortController();
    const res = await fetchLike(`${base}/end`, { method: 'GET', signal: ctl.signal });
    const reader = res.body!.getReader();
    await reader.read(); // the last event; the end of the response is not read (the transport stops here)
    await new Promise((r) => setTimeout(r, 20)); // meanwhile the socket goes back to the pool
    ctl.abort(); // must not reach the socket, which may serve another request by now
    for (let i = 0; i < 3; i++) assert.equal((await fetchLike(`${base}/x`, { method: 'POST', body: 'again' })).status, 204);
  });

  it('an aborted signal refuses at once; an unreachable port rejects', async () => {
    const ctl = new AbortController();
    ctl.abort();
    await assert.rejects(fetchLike(`${base}/x`, { method: 'POST', body: 'x', signal: ctl.signal }));
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const alive = new AbortController();
    let listening = 0;
    const add = alive.signal.addEventListener.bind(alive.signal);
    const remove = alive.signal.removeEventListener.bind(alive.signal);
    alive.signal.addEventListener = ((...a: Parameters<typeof add>) => (listening++, add(...a))) as typeof add;
    alive.signal.removeEventListener = ((...a: Parameters<typeof remove>) => (listening--, remove(...a))) as typeof remove;
    await assert.rejects(fetchLike(`http://127.0.0.1:${port}/`, { method: 'POST', body: 'x', signal: alive.signal }));
    for (let i = 0; i < 20 && listening > 0; i++) await new Promise((r) => setTimeout(r, 5)); // 'close' follows 'error'
    assert.equal(listening, 0, 'a request that failed leaves no listener on its signal');
  });
});
