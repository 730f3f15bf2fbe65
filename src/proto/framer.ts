/**
 * Splits a byte stream (TCP) into RAW frames. The u32 length is checked against the limit as soon as
 * its 4 bytes arrive, before any of the frame is buffered, so a hostile length costs nothing.
 */
import { badMessage } from '../status.ts';
import { DEFAULT_MAX_FRAME, tooLarge } from './proto.ts';
import { concatBytes } from '../alloc.ts';

export class RawFramer {
  readonly #max: number;
  #chunks: Uint8Array[] = [];
  #buffered = 0;
  #need = 0; // size of the frame being assembled, 0 while its length is unknown

  constructor(maxFrameSize: number = DEFAULT_MAX_FRAME) {
    this.#max = maxFrameSize;
  }

  /** Feeds bytes; returns the complete frames they finish. Throws a 400 DrpcError on a bad length (the stream is then unusable). */
  push(chunk: Uint8Array): Uint8Array[] {
    const frames: Uint8Array[] = [];
    if (chunk.length) {
      this.#chunks.push(chunk);
      this.#buffered += chunk.length;
    }
    for (;;) {
      if (this.#need === 0) {
        if (this.#buffered < 4) return frames;
        const head = this.#peek(4);
        const size = ((head[0]! << 24) | (head[1]! << 16) | (head[2]! << 8) | head[3]!) >>> 0;
        if (size > this.#max) throw tooLarge(size, this.#max);
        if (size < 5) throw badMessage(`raw frame length ${size} is smaller than its header`);
        this.#need = size;
      }
      if (this.#buffered < this.#need) return frames;
      frames.push(this.#take(this.#need));
      this.#need = 0;
    }
  }

  /** Bytes held for an incomplete frame. */
  get buffered(): number {
    return this.#buffered;
  }

  #peek(n: number): Uint8Array {
    const first = this.#chunks[0]!;
    if (first.length >= n) return first;
    this.#chunks = [concatBytes(this.#chunks, this.#buffered)];
    return this.#chunks[0]!;
  }

  #take(n: number): Uint8Array {
    const first = this.#chunks[0]!;
    let out: Uint8Array;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(n);
    } else {
      const all = concatBytes(this.#chunks, this.#buffered);
      out = all.subarray(0, n);
      this.#chunks = all.length > n ? [all.subarray(n)] : [];
    }
    this.#buffered -= n;
    return out;
  }
}
