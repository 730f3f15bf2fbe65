/** UTF-8 helpers shared by every layer (one encoder and one strict decoder per process). */
import { Code, DrpcError } from './status.ts';

const encoder = new TextEncoder();
const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const EMPTY = new Uint8Array(0);

export function utf8Encode(s: string): Uint8Array {
  return s.length === 0 ? EMPTY : encoder.encode(s);
}

/** Decodes UTF-8, failing with 400 Bad Message naming `what` on invalid bytes. */
export function utf8Decode(bytes: Uint8Array, what: string): string {
  if (bytes.length === 0) return '';
  try {
    return strict.decode(bytes);
  } catch {
    throw new DrpcError(Code.BadMessage, `${what} is not valid UTF-8`);
  }
}

/** True when every byte is ASCII, so `latin1`-style decoding is exact (a hot-path shortcut). */
export function isAscii(bytes: Uint8Array, from = 0, to = bytes.length): boolean {
  for (let i = from; i < to; i++) if (bytes[i]! > 0x7f) return false;
  return true;
}

/** Decodes ASCII bytes without a TextDecoder round trip (callers check with isAscii first). */
export function asciiDecode(bytes: Uint8Array, from: number, to: number): string {
  let s = '';
  for (let i = from; i < to; i++) s += String.fromCharCode(bytes[i]!);
  return s;
}

export { EMPTY as EMPTY_BYTES };
