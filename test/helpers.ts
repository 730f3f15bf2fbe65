/** Small helpers shared by the unit tests. */
export const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
export const unhex = (h: string) => new Uint8Array(Buffer.from(h.replace(/\s+/g, ''), 'hex'));
export const bytes = (s: string) => new TextEncoder().encode(s);
export const text = (b: Uint8Array) => new TextDecoder().decode(b);

/** Hex of the given parts: hex strings (spaces allowed) or `{s:'…'}` text in UTF-8. */
export function frameHex(...parts: (string | { s: string })[]): string {
  return parts.map((p) => (typeof p === 'string' ? p.replace(/\s+/g, '') : hex(bytes(p.s)))).join('');
}

/** Resolves on the next macrotask (lets pending promise chains settle). */
export const tick = () => new Promise<void>((r) => setTimeout(r, 0));
