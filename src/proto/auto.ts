/**
 * Serves both WebSocket encodings on one endpoint: binary frames are RAW, text frames are drpc's
 * JSON sub-protocol. Replies and pushes use the encoding the peer last sent (until it has sent
 * anything: `initial`). One instance per connection, since it learns; the protos it delegates to
 * are shared. A class (not an object literal with getters) keeps one hidden class for all of them.
 */
import type { Frame, Proto, ProtoOptions } from './proto.ts';
import type { Message } from '../message.ts';
import { rawProto } from './raw.ts';
import { jsonProto } from './json.ts';

export interface AutoProtoOptions extends ProtoOptions {
  /** Encoding for packing until the peer has sent a frame. Default 'raw'. */
  initial?: 'raw' | 'json';
  /** Switch packing to the encoding the peer uses (server side). When false, always pack `initial`. Default true. */
  learn?: boolean;
  /** Prebuilt protos to share across connections (saves memory per connection). Default: made from the options. */
  raw?: Proto;
  json?: Proto;
}

/**
 * DMicro sends its JSON sub-protocol in *binary* WebSocket frames (x/net's Message.Send([]byte)), so a
 * binary frame starting with `{` is JSON: read as a RAW length prefix it would announce ≥ 0x7b000000
 * bytes (~1.9 GiB), far beyond any frame limit.
 */
const JSON_OPEN = 0x7b;

export function autoProto(options: AutoProtoOptions = {}): Proto & { readonly mode: 'raw' | 'json' } {
  return new AutoProto(
    options.raw ?? rawProto(options),
    options.json ?? jsonProto(options),
    options.initial ?? 'raw',
    options.learn ?? true,
  );
}

class AutoProto implements Proto {
  readonly name = 'auto';
  readonly #raw: Proto;
  readonly #json: Proto;
  readonly #learn: boolean;

  constructor(
    raw: Proto,
    json: Proto,
    public mode: 'raw' | 'json',
    learn: boolean,
  ) {
    this.#raw = raw;
    this.#json = json;
    this.#learn = learn;
  }

  get id(): number {
    return this.#raw.id;
  }

  /** Packs exactly as the proto it currently delegates to. */
  get packKey(): Proto {
    return this.mode === 'raw' ? this.#raw : this.#json;
  }

  get binary(): boolean {
    return this.mode === 'raw';
  }

  pack(m: Message): Frame | Promise<Frame> {
    return this.packKey.pack(m);
  }

  unpack(frame: Frame): Message | Promise<Message> {
    const kind = typeof frame === 'string' || frame[0] === JSON_OPEN ? 'json' : 'raw';
    if (this.#learn) this.mode = kind;
    return (kind === 'raw' ? this.#raw : this.#json).unpack(frame);
  }
}
