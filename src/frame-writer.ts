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
  #tail: Promise<void> | null = null;

  constructor(
    private readonly proto: Proto,
    private readonly sink: FrameSink,
  ) {}

  /** Packs and sends; resolves once the frame is handed to the transport. */
  write(m: Message): Promise<void> {
    return this.writeNow(m) ?? SENT;
  }

  /** Like write, but undefined when the frame went out synchronously. */
  writeNow(m: Message): Promise<void> | undefined {
    if (this.#tail !== null) return this.#chain(this.#tail.then(() => this.proto.pack(m)).then((f) => this.#send(f)));
    let frame: Frame | Promise<Frame>;
    try {
      frame = this.proto.pack(m);
    } catch (err) {
      return Promise.reject(DrpcError.from(err, Code.BadMessage));
    }
    if (frame instanceof Promise) return this.#chain(frame.then((f) => this.#send(f)));
    const err = this.sink.sendFrame(frame);
    return err && Promise.reject(err);
  }

  /** Sends an already packed frame, behind any write still being packed. */
  writeFrame(frame: Frame): Promise<void> | undefined {
    if (this.#tail !== null) return this.#chain(this.#tail.then(() => this.#send(frame)));
    const err = this.sink.sendFrame(frame);
    return err && Promise.reject(err);
  }

  #send(frame: Frame): Promise<void> {
    const err = this.sink.sendFrame(frame);
    return err ? Promise.reject(err) : SENT;
  }

  #chain(p: Promise<void>): Promise<void> {
    const tail = p.catch(() => {});
    this.#tail = tail;
    tail.then(() => {
      if (this.#tail === tail) this.#tail = null;
    });
    return p.catch((err) => Promise.reject(DrpcError.from(err, Code.BadMessage)));
  }
}

const SENT: Promise<void> = Promise.resolve();
