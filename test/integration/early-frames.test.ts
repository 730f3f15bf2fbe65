/**
 * A server transport whose session does not listen yet (the endpoint waits for the client's previous
 * node, up to the broker's timeout) keeps at most EARLY_FRAMES frames and stops reading the socket, so
 * a peer that floods it waits on TCP flow control instead of filling the server's memory; once the
 * session listens, every frame arrives, in order. Real sockets on 127.0.0.1, WebSocket and TCP.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, test } from 'node:test';
import WebSocket, { WebSocketServer } from 'ws';
import { NodeTcpTransport } from '../../adapters/node/tcp.ts';
import { NodeWebSocketTransport } from '../../adapters/node/ws-transport.ts';
import type { Frame } from '../../src/proto/proto.ts';
import { EARLY_FRAMES, type Transport } from '../../src/transport/transport.ts';
import { delay, until, WS_ONLY } from './helpers.ts';

const FRAMES = 200;
const SIZE = 256 * 1024; // 50 MB in all: far more than the kernel's socket buffers hold

/** Frame k: its 4-byte RAW length, then k, then filler. */
function frame(k: number): Buffer {
  const b = Buffer.alloc(SIZE);
  b.writeUInt32BE(SIZE, 0);
  b.writeUInt32BE(k, 4);
  return b;
}

/** Lets `transport` listen, and resolves with the number in each frame it delivers once all have come. */
async function drain(transport: Transport): Promise<number[]> {
  const got: number[] = [];
  transport.listen({
    receiveFrame: (f: Frame) => void got.push(Buffer.from(f as Uint8Array).readUInt32BE(4)),
    transportClosed: () => {},
  });
  await until(() => got.length === FRAMES, `all ${FRAMES} frames`, 10_000);
  return got;
}

const inOrder = Array.from({ length: FRAMES }, (_, k) => k);

describe('frames that arrive before the session listens', { timeout: 30_000 }, () => {
  test(`WebSocket: at most ${EARLY_FRAMES} are kept, the rest wait in the peer; then all arrive in order`, WS_ONLY, async (t) => {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    t.after(() => {
      for (const ws of wss.clients) ws.terminate(); // close() waits for them
      return new Promise((r) => wss.close(r));
    });
    await new Promise((r) => wss.once('listening', r));
    const accepted = new Promise<{ ws: WebSocket; transport: NodeWebSocketTransport }>((resolve) =>
      wss.once('connection', (ws) => resolve({ ws, transport: new NodeWebSocketTransport(ws, 'peer') })),
    );
    const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as net.AddressInfo).port}`);
    t.after(() => client.terminate());
    await new Promise((r) => client.once('open', r));
    for (let k = 0; k < FRAMES; k++) client.send(frame(k));
    const { ws, transport } = await accepted;
    await until(() => ws.isPaused, 'the server to stop reading');
    await delay(200);
    assert.ok(client.bufferedAmount > SIZE * 50, `the peer still holds most of its frames (${client.bufferedAmount} bytes)`);
    assert.deepEqual(await drain(transport), inOrder);
    assert.equal(ws.isPaused, false);
  });

  test(`TCP: at most ${EARLY_FRAMES} are kept, the rest wait in the peer; then all arrive in order`, async (t) => {
    const sockets = new Set<net.Socket>();
    const server = net.createServer((socket) => void sockets.add(socket));
    t.after(() => {
      for (const socket of sockets) socket.destroy(); // close() waits for them
      return new Promise((r) => server.close(r));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const accepted = new Promise<{ socket: net.Socket; transport: NodeTcpTransport }>((resolve) =>
      server.once('connection', (socket) => resolve({ socket, transport: new NodeTcpTransport(socket) })),
    );
    const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
    t.after(() => client.destroy());
    await new Promise((r) => client.once('connect', r));
    for (let k = 0; k < FRAMES; k++) client.write(frame(k));
    const { socket, transport } = await accepted;
    await until(() => socket.isPaused(), 'the server to stop reading');
    await delay(200);
    assert.ok(client.writableLength > SIZE * 50, `the peer still holds most of its frames (${client.writableLength} bytes)`);
    assert.deepEqual(await drain(transport), inOrder);
    assert.equal(socket.isPaused(), false);
  });
});
