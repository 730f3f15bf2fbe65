/**
 * Byte buffers for frames. `new Uint8Array(n)` above a few dozen bytes allocates an ArrayBuffer off
 * the JS heap (about 0.5 µs for 700 bytes on Node 20); Node's and Bun's Buffer.allocUnsafe slices a
 * pooled slab in a third of that. Callers overwrite every byte, so unzeroed memory never leaks out.
 */
type AllocUnsafe = (n: number) => Uint8Array;

const allocUnsafe = (globalThis as { Buffer?: { allocUnsafe?: AllocUnsafe } }).Buffer?.allocUnsafe;

/** A buffer of `n` bytes whose contents the caller overwrites entirely. */
export const allocBytes: (n: number) => Uint8Array = allocUnsafe ?? ((n) => new Uint8Array(n));

/**
 * The chunks end to end in one new buffer (`size`: their total length, when the caller knows it).
 * Not from the pool: what is cut out of it (a frame, a body) may live long.
 */
export function concatBytes(chunks: readonly Uint8Array[], size = chunks.reduce((n, c) => n + c.byteLength, 0)): Uint8Array {
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}
