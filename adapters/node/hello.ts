/**
 * The endpoint's HELLO push (docs/protocol.md, "Capabilities"): the same few bytes for every session,
 * so packed once per proto and answer and sent as a shared frame (a PUSH's seq matters to nobody,
 * and a session that only receives shared frames allocates no writer).
 */
import { CodecId } from '../../src/codec/codec.ts';
import { HELLO_METHOD, type Hello } from '../../src/extensions.ts';
import { createMessage, MType } from '../../src/message.ts';
import type { Frame } from '../../src/proto/proto.ts';
import type { Session } from '../../src/session.ts';
import { utf8Encode } from '../../src/utf8.ts';

export class HelloFrames {
  /** By answer (its JSON), then by the proto's pack key. */
  readonly #frames = new Map<string, Map<unknown, Frame>>();

  send(session: Session, hello: Hello): void {
    const json = JSON.stringify(hello);
    let byProto = this.#frames.get(json);
    if (!byProto) this.#frames.set(json, (byProto = new Map()));
    const key = session.proto.packKey ?? session.proto;
    let frame = byProto.get(key);
    if (frame === undefined) {
      let packed: Frame | Promise<Frame>;
      try {
        packed = session.proto.pack(
          createMessage({ mtype: MType.Push, serviceMethod: HELLO_METHOD, bodyCodec: CodecId.Json, body: utf8Encode(json) }),
        );
      } catch {
        return; // a proto that cannot pack it: the peer learns nothing, as from a plain drpc peer
      }
      // An asynchronous proto (filters): pushed the ordinary way.
      if (packed instanceof Promise) return void session.push(HELLO_METHOD, hello).catch(() => {});
      byProto.set(key, (frame = packed));
    }
    session.writeFrame(frame)?.catch(() => {});
  }
}
