/**
 * The Node TCP transport the interop suites ride on (adapters/node/tcp.ts): RAW frames on a byte
 * stream in any chunking, the max-frame check on the length prefix before buffering, a bad length
 * closing the connection with a clear error, and the endpoint's TCP listener lifecycle.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect as netConnect, createServer, type Socket } from 'node:net';
import { createEndpoint } from '../../adapters/node/endpoint.ts';
import { dialTcp } from '../../adapters/node/tcp.ts';
import { createMessage, MType } from '../../src/message.ts';
import { rawProto } from '../../src/proto/raw.ts';
import { RawFramer } from '../../src/proto/framer.ts';
import { filters } from '../../src/filter/index.ts';
import { Code, type DrpcError } from '../../src/status.ts';
import type { Session } from '../../src/session.ts';

const proto = rawProto({ filters });
const frame = (seq: number, serviceMethod: string, body: unknown) =>
  proto.pack(
    createMessage({ seq, mtype: MType.Call, serviceMethod, bodyCodec: 106, body: new TextEncoder().encode(JSON.stringify(body)) }),
  ) as Uint8Array;

function rawSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = netConnect({ host: '127.0.0.1', port }, () => resolve(s));
    s.once('error', reject);
  });
}

const closedWithin = (s: Socket, ms: number) =>
  new Promise<boolean>((resolve) => {
    if (s.destroyed) return resolve(true);
    const t = setTimeout(() => resolve(false), ms);
    s.once('close', () => (clearTimeout(t), resolve(true)));
  });

async function endpoint(maxFrameSize?: number) {
  const ep = createEndpoint({ maxFrameSize, onError: () => {} });
  ep.route('/math/add', ({ a, b }: any) => a + b);
  const closes: string[] = [];
  ep.on('session', (s) => void s.on('close', (info) => void closes.push(info.reason)));
  const { port } = await ep.listenTcp();
  return { ep, port, closes };
}

describe('Node TCP transport', () => {
  it('reads RAW frames in any chunking: byte by byte, and two frames in one chunk', async (t) => {
    const { ep, port } = await endpoint();
    t.after(() => ep.close({ drain: 0 }));
    const sock = await rawSocket(port);
    const framer = new RawFramer();
    const replies: number[] = [];
    sock.on('data', (d: Buffer) => {
      for (const f of framer.push(d))
        replies.push(JSON.parse(new TextDecoder().decode((proto.unpack(f) as ReturnType<typeof createMessage>).body)));
    });
    const one = frame(1, '/math/add', { a: 1, b: 2 });
    for (const byte of one) {
      sock.write(Uint8Array.of(byte));
      await new Promise((r) => setImmediate(r));
    }
    sock.write(Buffer.concat([frame(2, '/math/add', { a: 2, b: 2 }), frame(3, '/math/add', { a: 3, b: 2 })]));
    for (let i = 0; i < 100 && replies.length < 3; i++) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(replies, [3, 4, 5]);
    sock.destroy();
  });

  it('a length above maxFrameSize closes the connection at its 4-byte prefix, with a clear error', async (t) => {
    const { ep, port, closes } = await endpoint(1024);
    t.after(() => ep.close({ drain: 0 }));
    const sock = await rawSocket(port);
    sock.write(Uint8Array.of(0x00, 0x10, 0x00, 0x00)); // announces 1 MiB; nothing else is sent
    assert.ok(await closedWithin(sock, 2000), 'the endpoint closed the connection');
    assert.match(closes[0] ?? '', /^tcp: bad frame from 127\.0\.0\.1:\d+: frame of 1048576 bytes exceeds the 1024-byte limit$/);
  });

  it('a length smaller than a header closes the connection too', async (t) => {
    const { ep, port, closes } = await endpoint();
    t.after(() => ep.close({ drain: 0 }));
    const sock = await rawSocket(port);
    sock.write(Uint8Array.of(0, 0, 0, 2, 1, 0));
    assert.ok(await closedWithin(sock, 2000));
    assert.match(closes[0] ?? '', /raw frame length 2 is smaller than its header/);
  });

  it('dialTcp: a peer sending a bad length ends the session; its pending call fails with 102 naming the limit', async (t) => {
    const server = createServer((s) => void s.on('data', () => s.write(Uint8Array.of(0x7f, 0xff, 0xff, 0xff))));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    t.after(() => new Promise<void>((r) => server.close(() => r())));
    const s = await dialTcp({ port: (server.address() as { port: number }).port, maxFrameSize: 4096 });
    const err = (await s.call('/x').catch((e) => e)) as DrpcError;
    assert.equal(err.code, Code.ConnClosed);
    assert.match(err.causeText, /frame of 2147483647 bytes exceeds the 4096-byte limit/);
    assert.equal(s.state, 'closed');
  });

  it('dialTcp to a closed port rejects with 105 Dial Failed', async () => {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as { port: number };
    await new Promise<void>((r) => server.close(() => r()));
    const err = (await dialTcp({ port }).catch((e) => e)) as DrpcError;
    assert.equal(err.code, Code.DialFailed);
    assert.match(err.message, new RegExp(`cannot dial tcp://127\\.0\\.0\\.1:${port}`));
  });

  it('Endpoint.close closes its TCP listeners and sessions; listenTcp().close() stops one listener', async () => {
    const { ep, port } = await endpoint();
    const second = await ep.listenTcp();
    const a: Session = await dialTcp({ port });
    const b: Session = await dialTcp({ port: second.port });
    assert.equal(await a.call('/math/add', { a: 1, b: 1 }), 2);
    await second.close();
    await b.closed; // the listener's own connections are dropped
    await assert.rejects(dialTcp({ port: second.port }), (e: DrpcError) => e.code === Code.DialFailed);
    assert.equal(await a.call('/math/add', { a: 2, b: 1 }), 3, 'the other listener is untouched');
    await ep.close({ drain: 100 });
    await a.closed;
    await assert.rejects(dialTcp({ port }), (e: DrpcError) => e.code === Code.DialFailed);
  });
});
