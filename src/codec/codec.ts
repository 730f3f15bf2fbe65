/** Body codecs by drpc id. A codec turns a body value into bytes and back; 0 means "no codec". */
import { Registry, type Identified } from '../registry.ts';
import { badMessage } from '../status.ts';
import { utf8Decode, utf8Encode, EMPTY_BYTES } from '../utf8.ts';

export interface Codec extends Identified {
  encode(value: unknown): Uint8Array;
  decode(bytes: Uint8Array): unknown;
}

export const CodecId = {
  None: 0,
  Bytes: 98, // 'b' ours: raw bytes both ways
  Form: 102, // 'f' drpc, not implemented here
  Json: 106, // 'j' drpc default
  Msgpack: 109, // 'm' ours (drpc has none); a Go peer registers the same id to interoperate
  Protobuf: 112, // 'p' drpc; bytes pass-through here
  Plain: 115, // 's' drpc
  Xml: 120, // 'x' drpc, not implemented here
} as const;

const bad = (codec: string, what: string, cause?: unknown) => badMessage(`${codec} codec: ${what}`, cause);

/** json 'j' (106): JSON text; `undefined` is an empty body, both ways. */
export const jsonCodec: Codec = {
  id: CodecId.Json,
  name: 'json',
  encode(value) {
    let text: string | undefined; // undefined for `undefined` (and functions, symbols): an empty body
    try {
      text = JSON.stringify(value);
    } catch (err) {
      throw bad('json', 'cannot encode the body', err);
    }
    return text === undefined ? EMPTY_BYTES : utf8Encode(text);
  },
  decode(bytes) {
    if (bytes.length === 0) return undefined; // the empty body `encode(undefined)` writes
    const text = utf8Decode(bytes, 'json body');
    try {
      return JSON.parse(text);
    } catch (err) {
      throw bad('json', `body is not valid JSON (${(err as Error).message})`);
    }
  },
};

const scalars = ['number', 'boolean', 'bigint'];

/** plain 's' (115): strings as UTF-8 text; numbers, booleans and bigints as their text. Decodes to a string. */
export const plainCodec: Codec = {
  id: CodecId.Plain,
  name: 'plain',
  encode(value) {
    if (value === undefined || value === null) return EMPTY_BYTES;
    if (typeof value === 'string') return utf8Encode(value);
    if (value instanceof Uint8Array) return value;
    if (scalars.includes(typeof value)) return utf8Encode(String(value));
    throw bad('plain', `cannot encode a ${typeof value}; give a string, number, boolean or bytes`);
  },
  decode(bytes) {
    return utf8Decode(bytes, 'plain body');
  },
};

const same = (bytes: Uint8Array) => bytes;

function bytesOnly(name: string): (value: unknown) => Uint8Array {
  return (value) => {
    if (value === undefined || value === null) return EMPTY_BYTES;
    if (value instanceof Uint8Array) return value;
    if (value instanceof ArrayBuffer) return new Uint8Array(value);
    throw bad(name, `expects a Uint8Array body, got ${typeof value}`);
  };
}

/** protobuf 'p' (112): serialized protobuf bytes, passed through untouched (bring your own protobuf library). */
export const protobufCodec: Codec = {
  id: CodecId.Protobuf,
  name: 'protobuf',
  encode: bytesOnly('protobuf'),
  decode: same,
};

/** bytes 'b' (98, ours): raw bytes both ways. */
export const bytesCodec: Codec = {
  id: CodecId.Bytes,
  name: 'bytes',
  encode: bytesOnly('bytes'),
  decode: same,
};

export type CodecRegistry = Registry<Codec>;

/** A new registry with the built-in codecs (json, plain, protobuf, bytes) and any extra ones. */
export function createCodecs(...extra: Codec[]): CodecRegistry {
  return new Registry<Codec>('body codec', [jsonCodec, plainCodec, protobufCodec, bytesCodec, ...extra]);
}

/** The default registry sessions use unless given their own. Register custom codecs here or pass a registry. */
export const codecs: CodecRegistry = createCodecs();

/**
 * drpc's reply codec choice: the handler's choice › a valid `X-Accept-Body-Codec` › the request's codec.
 * Returns 0 when none applies (the caller then uses its default).
 */
export function replyCodec(registry: CodecRegistry, requestCodec: number, acceptHeader: string | undefined, chosen?: number): number {
  if (chosen) return chosen;
  // A registry holds only integer ids in 1-255, so get() alone validates the number (NaN when absent).
  const id = Number(acceptHeader);
  if (registry.get(id)) return id;
  return requestCodec;
}

export const ACCEPT_BODY_CODEC = 'X-Accept-Body-Codec';
export const REAL_IP = 'X-Real-IP';
