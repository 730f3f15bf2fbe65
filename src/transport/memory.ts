/**
 * An in-memory transport pair, for unit tests of the core and in-process demos. Frames are copied
 * and delivered asynchronously (a microtask later), in order, like a real socket would.
 * `freeze()` makes one end stop reading (a frozen peer): frames to it are held, not lost.
 */
import type { Frame } from '../proto/proto.ts';
import type { Transport, TransportHandlers } from './transport.ts';
import { closedTransport } from './transport.ts';

export interface MemoryTransport extends Transport {
  /** Stops delivering frames to this end until `thaw()`. */
  freeze(): void;
  thaw(): void;
  /** Every frame this end sent, in order (for golden assertions). */
  readonly sent: Frame[];
}

export function memoryPair(names: [string, string] = ['mem:a', 'mem:b']): [MemoryTransport, MemoryTransport] {
  const a = new End(names[1]);
  const b = new End(names[0]);
  a.peer = b;
  b.peer = a;
  return [a, b];
}

class End implements MemoryTransport {
  // A getter, not a field: nothing per connection.
  get kind(): 'memory' {
    return 'memory';
  }

  peer!: End;
  readonly sent: Frame[] = [];
  #handlers?: TransportHandlers;
  #inbox: Frame[] = [];
  #closed = false;
  #frozen = false;
  #scheduled = false;

  constructor(readonly remoteAddress: string) {}

  get bufferedAmount(): number {
    return 0;
  }

  listen(handlers: TransportHandlers): void {
    this.#handlers = handlers;
    this.#schedule();
  }

  send(frame: Frame): void {
    if (this.#closed) throw closedTransport('memory transport is closed');
    const copy = typeof frame === 'string' ? frame : frame.slice();
    this.sent.push(copy);
    this.peer.#inbox.push(copy);
    this.peer.#schedule();
  }

  close(reason = 'closed'): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#inbox = [];
    queueMicrotask(() => this.#handlers?.transportClosed(reason));
    this.peer.#remoteClosed(reason);
  }

  freeze(): void {
    this.#frozen = true;
  }

  thaw(): void {
    this.#frozen = false;
    this.#schedule();
  }

  #remoteClosed(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    // Frames already received are still delivered before the close, as on a socket.
    queueMicrotask(() => {
      this.#drain(true);
      this.#handlers?.transportClosed(`peer closed: ${reason}`);
    });
  }

  #schedule(): void {
    if (this.#scheduled || !this.#handlers) return;
    this.#scheduled = true;
    queueMicrotask(() => {
      this.#scheduled = false;
      this.#drain(false);
    });
  }

  #drain(force: boolean): void {
    if (!this.#handlers || (this.#frozen && !force)) return;
    const frames = this.#inbox;
    this.#inbox = [];
    for (const f of frames) this.#handlers.receiveFrame(f);
  }
}
