/**
 * Packs messages and hands the frames to a sink in order. Packing is synchronous unless a filter
 * packs asynchronously (CompressionStream); then later messages queue behind it, so frames never
 * overtake each other. The common case allocates no promise at all (`writeNow`).
 */
import type { Message } from './message.ts';
import type { Frame, Proto } from './proto/proto.ts';
import { Code, DrpcError } from './status.ts';

export interface FrameSink {
  /** Sends one frame now; returns why it could not (closed, write failed), or undefined. */
  sendFrame(frame: Frame): DrpcError | undefined;
}

export class FrameWriter {
  readonly #proto: Proto;
  readonly #sink: FrameSink;
  #tail: Promise<void> | null = null;

  constructor(proto: Proto, sink: FrameSink) {
    this.#proto = proto;
    this.#sink = sink;
  }

  /** Packs and sends; resolves once the frame is handed to the transport. */
  write(m: Message): Promise<void> {
    return this.writeNow(m) ?? SENT;
  }

  /** Like write, but undefined when the frame went out synchronously. */
  writeNow(m: Message): Promise<void> | undefined {
    if (this.#tail !== null) return this.#chain(this.#tail.then(() => this.#proto.pack(m)).then((f) => this.#send(f)));
    let frame: Frame | Promise<Frame>;
    try {
      frame = this.#proto.pack(m);
    } catch (err) {
      return Promise.reject(packError(err));
    }
    return frame instanceof Promise ? this.#chain(frame.then((f) => this.#send(f))) : this.#sendNow(frame);
  }

  /** Sends an already packed frame, behind any write still being packed. */
  writeFrame(frame: Frame): Promise<void> | undefined {
    return this.#tail !== null ? this.#chain(this.#tail.then(() => this.#send(frame))) : this.#sendNow(frame);
  }

  /** Undefined when sent, else a rejection with why not. */
  #sendNow(frame: Frame): Promise<void> | undefined {
    const err = this.#sink.sendFrame(frame);
    return err && Promise.reject(err);
  }

  #send(frame: Frame): Promise<void> {
    return this.#sendNow(frame) ?? SENT;
  }

  #chain(p: Promise<void>): Promise<void> {
    const tail = p.catch(() => {});
    this.#tail = tail;
    tail.then(() => {
      if (this.#tail === tail) this.#tail = null;
    });
    return p.catch((err) => Promise.reject(packError(err)));
  }
}

/** A write that is already done (one settled promise for all). */
export const SENT: Promise<void> = Promise.resolve();

/** Anything a pack throws reaches the caller as a DrpcError (400 unless it already is one). */
function packError(err: unknown): DrpcError {
  return DrpcError.from(err, Code.BadMessage);
}
