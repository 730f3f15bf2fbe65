/**
 * One PUSH to many sessions, encoded and packed once per (codec, encoding) instead of once per
 * session: fan-out then costs a frame copy into each socket, like a hand-written ws broadcast.
 * PUSH is never replied, so drpc never matches its seq: broadcast frames share one seq from a
 * process-wide counter. Sessions with plugins get an ordinary push, so their write hooks run.
 */
import { createMessage, MType, nextSeq, type Message } from './message.ts';
import type { Frame } from './proto/proto.ts';
import type { Session } from './session.ts';
import type { PushOptions } from './session-types.ts';
import { DrpcError } from './status.ts';

export interface BroadcastResult {
  /** Sessions the push was handed to. */
  sent: number;
  /** Sessions that were closed or whose write failed (see `errors`). */
  failed: number;
  errors: DrpcError[];
}

let seq = 0;

export function broadcast(sessions: Iterable<Session>, serviceMethod: string, body: unknown, options: PushOptions = {}): BroadcastResult {
  const result: BroadcastResult = { sent: 0, failed: 0, errors: [] };
  const bodies = new Map<number, Uint8Array>();
  const frames = new Map<string, Map<unknown, Frame>>();
  seq = nextSeq(seq);
  const fail = (err: unknown) => {
    result.failed++;
    result.errors.push(DrpcError.from(err));
  };
  for (const s of sessions) {
    if (s.state !== 'open') {
      fail(new DrpcError(102, 'Connection Closed', `session ${s.id} is ${s.state}`));
      continue;
    }
    if (s.plugins.length || options.pipe?.length) {
      s.push(serviceMethod, body, options).catch(() => {}); // hooks and filters are per session
      result.sent++;
      continue;
    }
    try {
      const codec = options.codec === undefined ? s.codec : s.codecs.require(options.codec);
      let bytes = bodies.get(codec.id);
      if (!bytes) bodies.set(codec.id, (bytes = body instanceof Uint8Array ? body : codec.encode(body)));
      const key = s.proto.packKey ?? s.proto;
      let byKey = frames.get(String(codec.id));
      if (!byKey) frames.set(String(codec.id), (byKey = new Map()));
      let frame = byKey.get(key);
      if (frame === undefined) {
        const m: Message = createMessage({ seq, mtype: MType.Push, serviceMethod, meta: options.meta, bodyCodec: codec.id, body: bytes });
        const packed = s.proto.pack(m);
        if (packed instanceof Promise) throw new DrpcError(500, 'Internal Server Error', 'broadcast needs a synchronous proto');
        byKey.set(key, (frame = packed));
      }
      const written = s.writeFrame(frame);
      if (written) written.catch(() => {});
      result.sent++;
    } catch (err) {
      fail(err);
    }
  }
  return result;
}
