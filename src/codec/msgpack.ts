/**
 * msgpack codec ('m' = 109, ours: drpc has no msgpack id; a Go peer registers a codec with the same
 * id to interoperate). Its own entry point (`drpc/msgpack`) so JSON users never load it. Our own
 * encoder and decoder (msgpack-write.ts, msgpack-read.ts), about 2 KB in a browser bundle where a
 * general msgpack library costs 6-12 KB; no `new Function`, so strict-CSP pages work.
 */
import { CodecId, type Codec } from './codec.ts';
import { badMessage } from '../status.ts';
import { EMPTY_BYTES } from '../utf8.ts';
import { writeMsgpack } from './msgpack-write.ts';
import { readMsgpack } from './msgpack-read.ts';

export function msgpackCodec(options: { id?: number; name?: string } = {}): Codec {
  return {
    id: options.id ?? CodecId.Msgpack,
    name: options.name ?? 'msgpack',
    encode(value) {
      if (value === undefined) return EMPTY_BYTES;
      try {
        return writeMsgpack(value);
      } catch (err) {
        throw badMessage('msgpack codec: cannot encode the body', err);
      }
    },
    decode(bytes) {
      if (bytes.length === 0) return undefined; // the empty body `encode(undefined)` writes
      try {
        return readMsgpack(bytes);
      } catch (err) {
        throw badMessage(`msgpack codec: body is not valid msgpack (${(err as Error).message})`);
      }
    },
  };
}

export const msgpack: Codec = msgpackCodec();
