/**
 * Unpacks frames and hands the messages to a sink in arrival order. Unpacking is synchronous unless
 * a filter unpacks asynchronously (DecompressionStream); then later frames queue behind it, so a
 * message never overtakes an earlier one.
 */
import type { Message } from './message.ts';
import type { Frame, Proto } from './proto/proto.ts';

export interface MessageSink {
  /** False once the receiver stopped reading (closed or aborted): queued frames are then dropped. */
  readonly reading: boolean;
  receiveMessage(m: Message): void;
  receiveBadFrame(err: unknown): void;
}

export class FrameReader {
  readonly #proto: Proto;
  readonly #sink: MessageSink;
  #tail: Promise<void> | null = null;

  constructor(proto: Proto, sink: MessageSink) {
    this.#proto = proto;
    this.#sink = sink;
  }

  read(frame: Frame): void {
    if (this.#tail) return this.#track(this.#tail.then(() => this.#readLater(frame)));
    let m: Message | Promise<Message>;
    try {
      m = this.#proto.unpack(frame);
    } catch (err) {
      return this.#sink.receiveBadFrame(err);
    }
    if (!(m instanceof Promise)) return this.#sink.receiveMessage(m);
    this.#track(this.#settle(m));
  }

  #readLater(frame: Frame): Promise<void> {
    if (!this.#sink.reading) return Promise.resolve();
    return this.#settle(Promise.resolve().then(() => this.#proto.unpack(frame)));
  }

  // Closures only on the async path: a reader per session must stay small.
  #settle(p: Promise<Message>): Promise<void> {
    return p.then(
      (m) => {
        if (this.#sink.reading) this.#sink.receiveMessage(m);
      },
      (err) => {
        if (this.#sink.reading) this.#sink.receiveBadFrame(err);
      },
    );
  }

  #track(p: Promise<void>): void {
    this.#tail = p;
    p.then(() => {
      if (this.#tail === p) this.#tail = null;
    });
  }
}
