/**
 * A Server-Sent Events parser for a streamed `fetch` body (EventSource cannot set headers, and we
 * need the ids): feed it the body's chunks as they arrive, it calls back once per complete event.
 * It works on bytes, so a frame's base64 goes from the chunk to bytes with no string in between
 * (decoding whole chunks to text cost the HTTP client a tenth of its time). Comment lines
 * (`: ping`) count as activity only.
 */
import { concatBytes } from '../alloc.ts';
import { asciiDecode } from '../utf8.ts';

export interface SseEvent {
  event: string;
  id: string;
  /** The data lines (UTF-8), joined by LF; valid only during the callback. */
  data: Uint8Array;
}

const LF = 10;
const CR = 13;
const COLON = 58;
const SPACE = 32;

export class SseParser {
  #rest: Uint8Array[] = []; // the start of a line cut by chunk ends (copies)
  #event = '';
  #id = '';
  #data: Uint8Array[] = [];
  #owned = 0; // #data[0 … owned) are copies; the others point into the chunk being read

  constructor(private readonly onEvent: (e: SseEvent) => void) {}

  push(chunk: Uint8Array): void {
    let at = 0;
    if (this.#rest.length) {
      const nl = chunk.indexOf(LF);
      if (nl === -1) return void this.#rest.push(new Uint8Array(chunk));
      this.#rest.push(chunk.subarray(0, nl + 1));
      const line = concatBytes(this.#rest);
      this.#rest = [];
      this.#next(line, 0, line.length - 1);
      this.#owned = this.#data.length; // `line` is a copy already
      at = nl + 1;
    }
    for (let nl = chunk.indexOf(LF, at); nl !== -1; nl = chunk.indexOf(LF, at)) {
      this.#next(chunk, at, nl);
      at = nl + 1;
    }
    if (at < chunk.length) this.#rest.push(new Uint8Array(chunk.subarray(at)));
    // Data lines of an event not complete yet must outlive this chunk.
    for (; this.#owned < this.#data.length; this.#owned++) this.#data[this.#owned] = new Uint8Array(this.#data[this.#owned]!);
  }

  /** One line: bytes [start, lf) of `b`, where b[lf] is its LF. */
  #next(b: Uint8Array, start: number, lf: number): void {
    const end = lf > start && b[lf - 1] === CR ? lf - 1 : lf;
    if (end === start) return this.#dispatch();
    if (b[start] === COLON) return; // a comment
    let colon = b.indexOf(COLON, start);
    if (colon === -1 || colon > end) colon = end;
    let value = colon + 1;
    if (value < end && b[value] === SPACE) value++;
    if (value > end) value = end;
    // The three fields we read, told apart by first byte and length (no string per line).
    const first = b[start];
    const n = colon - start;
    if (n === 4 && first === 100 && b[start + 1] === 97 && b[start + 2] === 116 && b[start + 3] === 97)
      this.#data.push(b.subarray(value, end));
    else if (n === 5 && first === 101 && asciiDecode(b, start, colon) === 'event') this.#event = asciiDecode(b, value, end);
    else if (n === 2 && first === 105 && b[start + 1] === 100) this.#id = asciiDecode(b, value, end);
  }

  #dispatch(): void {
    if (this.#data.length === 0 && this.#event === '') return;
    // Several data lines (rare: the endpoint sends one) are joined by LF.
    const data = this.#data.length === 1 ? this.#data[0]! : concatBytes(this.#data.flatMap((d, i) => (i ? [LF_BYTES, d] : d)));
    const e = { event: this.#event || 'message', id: this.#id, data };
    this.#event = '';
    this.#data.length = 0;
    this.#owned = 0;
    this.onEvent(e);
  }
}

const LF_BYTES = new Uint8Array([LF]);

/** The frames of a batch event (each after its u32 big-endian length), or undefined when it is cut short. */
export function splitBatch(bytes: Uint8Array): Uint8Array[] | undefined {
  const frames: Uint8Array[] = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = 0; at < bytes.length;) {
    if (at + 4 > bytes.length) return undefined;
    const end = at + 4 + view.getUint32(at);
    if (end > bytes.length) return undefined;
    frames.push(bytes.subarray(at + 4, end));
    at = end;
  }
  return frames;
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const LOOKUP = new Uint8Array(128);
for (let i = 0; i < ALPHABET.length; i++) LOOKUP[ALPHABET.charCodeAt(i)] = i;

interface NodeBufferClass {
  isBuffer(b: unknown): boolean;
  from(s: string, encoding: 'base64'): Uint8Array;
}
// Node's native decoder when the bytes are a Node Buffer (the node:http stream's chunks): a frame's
// base64 was a tenth of the HTTP client's time in JS. Found at runtime: bundles stay free of Node code.
const NodeBuffer = (globalThis as { Buffer?: NodeBufferClass }).Buffer;

/** Standard base64 (with padding), as ASCII bytes, to bytes. */
export function fromBase64(s: Uint8Array): Uint8Array {
  if (NodeBuffer?.isBuffer(s)) return NodeBuffer.from((s as unknown as { toString(e: 'latin1'): string }).toString('latin1'), 'base64');
  let len = s.length;
  while (len > 0 && s[len - 1] === 61) len--; // '='
  const out = new Uint8Array((len * 3) >> 2);
  const full = out.length - (out.length % 3);
  let o = 0;
  let i = 0;
  for (; o < full; i += 4) {
    const n = (LOOKUP[s[i]!]! << 18) | (LOOKUP[s[i + 1]!]! << 12) | (LOOKUP[s[i + 2]!]! << 6) | LOOKUP[s[i + 3]!]!;
    out[o++] = n >> 16;
    out[o++] = (n >> 8) & 255;
    out[o++] = n & 255;
  }
  if (o < out.length) {
    const n = (LOOKUP[s[i]!]! << 18) | (LOOKUP[s[i + 1]!]! << 12) | (i + 2 < len ? LOOKUP[s[i + 2]!]! << 6 : 0);
    out[o++] = n >> 16;
    if (o < out.length) out[o] = (n >> 8) & 255;
  }
  return out;
}
