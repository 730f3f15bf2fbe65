/** UTF-8 helpers shared by every layer (one encoder and one strict decoder per process). */
import { badMessage } from './status.ts';
import { allocBytes } from './alloc.ts';

const encoder = new TextEncoder();
const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const EMPTY = new Uint8Array(0);

export function utf8Encode(s: string): Uint8Array {
  const n = s.length;
  if (n === 0) return EMPTY;
  if (n > 64) return n <= SCRATCH_MAX / 3 ? encodeViaScratch(s) : encoder.encode(s);
  // Short ASCII strings (method names, small JSON bodies) are faster by hand than through TextEncoder.
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f) return encoder.encode(s);
    out[i] = c;
  }
  return out;
}

// TextEncoder.encode allocates slowly; encodeInto a reused buffer plus one pooled copy is ~3× faster.
const SCRATCH_MAX = 1 << 20;
let scratch = new Uint8Array(4096);

function encodeViaScratch(s: string): Uint8Array {
  const need = s.length * 3;
  if (need > scratch.length) scratch = new Uint8Array(Math.min(SCRATCH_MAX, 1 << Math.ceil(Math.log2(need))));
  const { written } = encoder.encodeInto(s, scratch);
  const out = allocBytes(written);
  out.set(scratch.subarray(0, written));
  return out;
}

/** Decodes UTF-8, failing with 400 Bad Message naming `what` on invalid bytes. */
export function utf8Decode(bytes: Uint8Array, what: string): string {
  // Short ASCII (the empty text too) skips the TextDecoder call.
  if (bytes.length <= 64 && isAscii(bytes)) return asciiDecode(bytes, 0, bytes.length);
  try {
    return strict.decode(bytes);
  } catch {
    throw badMessage(`${what} is not valid UTF-8`);
  }
}

/** True when every byte is ASCII, so `latin1`-style decoding is exact (a hot-path shortcut). */
export function isAscii(bytes: Uint8Array, from = 0, to = bytes.length): boolean {
  for (let i = from; i < to; i++) if (bytes[i]! > 0x7f) return false;
  return true;
}

// Node's (and Bun's) native one-byte decoder, when the runtime has a global Buffer.
const latin1Slice = (globalThis as { Buffer?: { prototype: { latin1Slice?: (this: Uint8Array, a: number, b: number) => string } } }).Buffer
  ?.prototype.latin1Slice;

/** Decodes ASCII bytes without a TextDecoder round trip (callers check with isAscii first). */
export function asciiDecode(bytes: Uint8Array, from: number, to: number): string {
  if (to - from > 24 && latin1Slice) return latin1Slice.call(bytes, from, to);
  let s = '';
  for (let i = from; i < to; i++) s += String.fromCharCode(bytes[i]!);
  return s;
}

export { EMPTY as EMPTY_BYTES };
