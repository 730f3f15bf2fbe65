/**
 * Serves both WebSocket encodings on one endpoint: binary frames are RAW, text frames are drpc's
 * JSON sub-protocol. Replies and pushes use the encoding the peer last sent (until it has sent
 * anything: `initial`). One instance per connection, since it learns.
 */
import type { Proto, ProtoOptions } from './proto.ts';
import { rawProto } from './raw.ts';
import { jsonProto } from './json.ts';

export interface AutoProtoOptions extends ProtoOptions {
  /** Encoding for packing until the peer has sent a frame. Default 'raw'. */
  initial?: 'raw' | 'json';
  /** Switch packing to the encoding the peer uses (server side). When false, always pack `initial`. Default true. */
  learn?: boolean;
}

export function autoProto(options: AutoProtoOptions = {}): Proto & { readonly mode: 'raw' | 'json' } {
  const raw = rawProto(options);
  const json = jsonProto(options);
  let mode = options.initial ?? 'raw';
  const learn = options.learn ?? true;
  return {
    id: raw.id,
    name: 'auto',
    get binary() {
      return mode === 'raw';
    },
    get mode() {
      return mode;
    },
    pack: (m) => (mode === 'raw' ? raw.pack(m) : json.pack(m)),
    unpack(frame) {
      const kind = typeof frame === 'string' ? 'json' : 'raw';
      if (learn) mode = kind;
      return kind === 'raw' ? raw.unpack(frame) : json.unpack(frame);
    },
  };
}
