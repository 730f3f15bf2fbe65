/** Server side of a WebSocket connection (the `ws` library) as a drpc Transport. */
import type { WebSocket } from 'ws';
import type { Frame } from '../../src/proto/proto.ts';
import type { Transport, TransportHandlers } from '../../src/transport/transport.ts';
import { statusToClose } from '../../src/close-codes.ts';
import type { Status } from '../../src/status.ts';
import { clipReason } from '../../src/transport/websocket.ts';
import { batchWrite, corkableOf, type Corkable, type WriteBatch } from '../../src/transport/cork.ts';
import { EARLY_FRAMES, closedTransport, startListening } from '../../src/transport/transport.ts';

const BINARY = { binary: true };
const TEXT = { binary: false };

export class NodeWebSocketTransport implements Transport, WriteBatch {
  // A getter, not a field: nothing per connection.
  get kind(): 'websocket' {
    return 'websocket';
  }

  #handlers?: TransportHandlers;
  #early?: Frame[];
  #done = false;
  #reason = '';
  /** WebSocket close code used when the session closes without a status (1012 when draining). */
  closeCode = 1000;
  /** Write coalescing state (see cork.ts). */
  corkable?: Corkable;
  batchState = 0;

  constructor(
    private readonly ws: WebSocket,
    readonly remoteAddress: string,
  ) {
    this.corkable = corkableOf(ws);
    ws.on('message', (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => {
      const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
      const frame: Frame = isBinary ? buf : buf.toString('utf8');
      if (this.#handlers) this.#handlers.receiveFrame(frame);
      else if ((this.#early ??= []).push(frame) === EARLY_FRAMES) ws.pause();
    });
    ws.on('close', (code: number, reason: Buffer) =>
      this.#finish(`websocket closed (${code}${reason.length ? ' ' + reason.toString() : ''})`),
    );
    ws.on('error', (err: Error) => this.#finish(`websocket error: ${err.message}`));
  }

  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  listen(handlers: TransportHandlers): void {
    this.#handlers = handlers;
    const early = this.#early;
    this.#early = undefined;
    startListening(handlers, early, this.#done ? { reason: this.#reason } : undefined);
    if (this.ws.isPaused) this.ws.resume();
  }

  send(frame: Frame): void {
    if (this.#done || this.ws.readyState !== 1) throw closedTransport('websocket is not open');
    batchWrite(this);
    this.ws.send(frame, typeof frame === 'string' ? TEXT : BINARY);
  }

  close(reason = 'closed', status?: Status): void {
    if (this.#done) return;
    const { code, reason: text } = status && status.code !== 0 ? statusToClose(status) : { code: this.closeCode, reason };
    try {
      this.ws.close(code, clipReason(text));
    } catch {
      this.ws.terminate();
    }
    this.#finish(reason);
  }

  /** Drops the TCP connection without a close handshake (a peer that stopped reading never answers one). */
  terminate(): void {
    this.ws.terminate();
  }

  #finish(reason: string): void {
    if (this.#done) return;
    this.#done = true;
    this.#reason = reason;
    this.ws.removeAllListeners('message');
    this.ws.on('error', () => {}); // late socket errors have nobody to tell
    this.#handlers?.transportClosed(reason);
  }
}
