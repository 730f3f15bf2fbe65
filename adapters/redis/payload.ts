/**
 * How a payload travels between nodes: one tag byte, then bytes as they are (a Uint8Array payload,
 * e.g. already encoded) or JSON text. Each node then encodes it with each session's own codec.
 */
const BYTES = 0;
const JSON_TEXT = 1;
const utf8 = new TextEncoder();
const text = new TextDecoder('utf-8', { fatal: true });

export function encodePayload(payload: unknown): Buffer {
  if (payload instanceof Uint8Array) {
    const out = Buffer.allocUnsafe(payload.length + 1);
    out[0] = BYTES;
    out.set(payload, 1);
    return out;
  }
  const json = JSON.stringify(payload);
  if (json === undefined)
    throw new TypeError(`a payload of type ${typeof payload} cannot be sent through the broker (JSON has no value for it)`);
  const out = Buffer.allocUnsafe(Buffer.byteLength(json) + 1);
  out[0] = JSON_TEXT;
  utf8.encodeInto(json, out.subarray(1));
  return out;
}

export function decodePayload(bytes: Uint8Array): unknown {
  const body = bytes.subarray(1);
  if (bytes[0] === BYTES) return new Uint8Array(body);
  if (bytes[0] === JSON_TEXT) return JSON.parse(text.decode(body));
  throw new TypeError(`unknown payload tag ${bytes[0]}`);
}
