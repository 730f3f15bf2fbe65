/**
 * Topics (our extension, see docs/protocol.md): named streams of PUSHes where every message carries
 * an offset (1, 2, 3 … per topic) and the epoch of the topic's history. The publishing side keeps a
 * bounded history, so a subscriber that comes back with its last offset gets exactly what it missed,
 * or an explicit gap when the history no longer reaches back or was reset (a new epoch).
 *
 * Wire: CALL `/drpc/subscribe` {topic, offset?, epoch?} → REPLY {epoch, offset, gap?}; replayed and
 * live messages are PUSH `/drpc/topic` with meta `_t` topic, `_o` offset, `_e` epoch; CALL
 * `/drpc/unsubscribe` {topic}.
 */
import type { Clock } from './clock.ts';
import { broadcast } from './broadcast.ts';
import type { Backlogs, SlowPolicy } from './backlog.ts';
import { createMessage, MType } from './message.ts';
import type { Frame } from './proto/proto.ts';
import type { Session } from './session.ts';
import { badMessage } from './status.ts';
import { checkNumbers, type NumberOption } from './options.ts';
import { memoryLog, type LogEntry, type LogStart, type LogState, type TopicLog, type TopicLogFactory } from './topic-log.ts';

export const SUBSCRIBE_METHOD = '/drpc/subscribe';
export const UNSUBSCRIBE_METHOD = '/drpc/unsubscribe';
export const TOPIC_PUSH_METHOD = '/drpc/topic';
export const TOPIC_META = { topic: '_t', offset: '_o', epoch: '_e' } as const;
/** `to` of a gap whose end is unknown (the old history was reset). */
export const UNKNOWN_END = Number.MAX_SAFE_INTEGER;

export interface TopicOptions {
  /** Messages kept for resume: at most `count`, none older than `maxAgeMs`. Default { count: 1000, maxAgeMs: 300000 }. */
  history?: { count?: number; maxAgeMs?: number };
  /** What happens to a subscriber that stops reading (see backlog.ts). Default 'drop-oldest'. */
  slowPolicy?: SlowPolicy;
  /** Who may subscribe; false (or a thrown DrpcError) refuses with 401. Default: everyone. */
  authorize?: (session: Session, topic: string) => boolean | Promise<boolean>;
}

/** A topic's numeric options out of range are a 400 naming them (`more`: further ones to check with them). */
export function checkTopicOptions(options: TopicOptions, more: NumberOption[] = []): void {
  checkNumbers([['history.count', options.history?.count, 0, true], ['history.maxAgeMs', options.history?.maxAgeMs, 0], ...more]);
}

/** A range of offsets a subscriber will never receive. */
export interface Gap {
  from: number;
  to: number;
  /** The history was reset: offsets from the old epoch mean nothing in the new one. */
  epochChanged?: boolean;
}

export interface SubscribeReply {
  epoch: string;
  /** The topic's last offset when the subscription was made (0 = nothing published yet). */
  offset: number;
  gap?: Gap;
}

export class Topic<Published extends number | Promise<number> = number> {
  readonly subscribers = new Set<Session>();
  readonly #log: TopicLog;
  /** Sessions whose subscribe waits for a shared log's answer: their live messages wait here, in order. */
  readonly #joining = new Map<Session, (LogEntry & { epoch: string })[]>();

  constructor(
    readonly name: string,
    clock: Clock,
    readonly options: TopicOptions = {},
    /** Where messages for slow subscribers wait (none: every subscriber is written to at once). */
    readonly backlogs?: Backlogs,
    /** Where offsets are given and history kept. Default: this process's memory. */
    logs: TopicLogFactory = memoryLog(clock),
    /** Where a memory log goes on from (the place of a dropped topic of the same name). */
    from?: LogStart,
  ) {
    if (typeof name !== 'string' || name === '') throw badMessage(`a topic needs a non-empty name, got ${JSON.stringify(name)}`);
    checkTopicOptions(options);
    const limits = { count: options.history?.count ?? 1000, maxAgeMs: options.history?.maxAgeMs ?? 300_000 };
    this.#log = logs(name, limits, (offset, epoch, payload) => this.#deliver(offset, epoch, payload), from);
  }

  /** Whether a session subscribes to it (or is subscribing). */
  get subscribed(): boolean {
    return this.subscribers.size > 0 || this.#joining.size > 0;
  }

  /** Whether dropping it would lose history only this process keeps (a memory log's messages). */
  get held(): boolean {
    return this.#log.held === true;
  }

  /** The epoch of the topic's history (a shared log's: '' until this node first read it). */
  get epoch(): string {
    return this.#log.epoch;
  }

  /** The last offset published (0 before the first message; a shared log's: the last this node saw). */
  get offset(): number {
    return this.#log.offset;
  }

  /**
   * Publishes to every subscriber (packed once) and returns the message's offset; with a broker the
   * offset comes back once the broker took the message (it rejects with 502 when the broker is down).
   */
  publish(payload: unknown): Published {
    return this.#log.append(payload) as Published;
  }

  /**
   * Adds `session` and sends what it missed since `offset` of `epoch`; the reply says where it stands.
   * With a shared log this waits for the broker; live messages meanwhile are held, then sent in order.
   */
  subscribe(session: Session, since?: { offset?: number; epoch?: string }): SubscribeReply | Promise<SubscribeReply> {
    const already = this.subscribers.has(session);
    this.subscribers.add(session);
    const state = this.#log.read(since?.offset);
    if (!(state instanceof Promise)) return this.#joined(session, state, since);
    this.#joining.set(session, []);
    const held = () => {
      const h = this.#joining.get(session) ?? [];
      this.#joining.delete(session);
      return h;
    };
    return state.then(
      (s) => {
        const reply = this.#joined(session, s, since);
        // Held messages that the read already covered reach the client as duplicates it drops.
        for (const e of held()) if (e.offset > s.offset) this.#send(session, e.offset, e.epoch, e.payload);
        return reply;
      },
      (err: unknown) => {
        // A session that was subscribed already stays so, and gets the live messages held meanwhile.
        const h = held();
        if (!already) this.subscribers.delete(session);
        else for (const e of h) this.#send(session, e.offset, e.epoch, e.payload);
        throw err;
      },
    );
  }

  /** The retained history, oldest first (memory logs only: a shared log is read with `read()`). */
  get history(): readonly LogEntry[] {
    const state = this.#log.read(0);
    if (state instanceof Promise) {
      state.catch(() => {});
      throw badMessage(`topic ${JSON.stringify(this.name)} keeps its history in a broker: use await topic.read(0)`);
    }
    return state.entries;
  }

  /** Where the topic's log stands, with the entries it keeps after `after`. */
  read(after?: number): LogState | Promise<LogState> {
    return this.#log.read(after);
  }

  /** Stops taking messages from a shared log (the endpoint is closing). */
  close(): void {
    this.#log.close?.();
  }

  #joined(session: Session, state: LogState, since?: { offset?: number; epoch?: string }): SubscribeReply {
    const reply: SubscribeReply = { epoch: state.epoch, offset: state.offset };
    if (since?.offset === undefined) return reply; // a new subscriber starts with what comes next
    if (since.epoch !== undefined && since.epoch !== state.epoch) {
      reply.gap = { from: since.offset + 1, to: UNKNOWN_END, epochChanged: true };
      return reply;
    }
    if (since.offset + 1 < state.first) reply.gap = { from: since.offset + 1, to: state.first - 1 };
    for (const e of state.entries) this.#send(session, e.offset, state.epoch, e.payload);
    return reply;
  }

  #send(session: Session, offset: number, epoch: string, payload: unknown): void {
    session.push(TOPIC_PUSH_METHOD, payload, { meta: this.#meta(offset, epoch) }).catch(() => {});
  }

  #deliver(offset: number, epoch: string, payload: unknown): void {
    if (!this.subscribers.size) return;
    const meta = this.#meta(offset, epoch);
    const backlogs = this.backlogs;
    const joining = this.#joining;
    if (!backlogs && !joining.size) {
      broadcast(this.subscribers, TOPIC_PUSH_METHOD, payload, { meta });
      return;
    }
    // Subscribers that keep up get the shared frame; slow ones queue it, bounded (backlog.ts).
    const fast: Session[] = [];
    for (const s of this.subscribers) {
      const held = joining.get(s);
      if (held) held.push({ offset, epoch, payload });
      else if (!backlogs?.isSlow(s)) fast.push(s);
      else {
        const frame = packPush(s, payload, meta);
        if (frame !== undefined) backlogs.add(s, this.name, frame, this.options.slowPolicy ?? 'drop-oldest');
      }
    }
    if (fast.length) broadcast(fast, TOPIC_PUSH_METHOD, payload, { meta });
  }

  #meta(offset: number, epoch: string): Record<string, string> {
    return { [TOPIC_META.topic]: this.name, [TOPIC_META.offset]: String(offset), [TOPIC_META.epoch]: epoch };
  }
}

/** A topic PUSH packed for one session's codec and encoding (undefined if it cannot be packed now). */
function packPush(s: Session, payload: unknown, meta: Record<string, string>): Frame | undefined {
  try {
    const body = payload instanceof Uint8Array ? payload : s.codec.encode(payload);
    const frame = s.proto.pack(
      createMessage({ seq: 0, mtype: MType.Push, serviceMethod: TOPIC_PUSH_METHOD, meta, bodyCodec: s.codec.id, body }),
    );
    return frame instanceof Promise ? undefined : frame;
  } catch {
    return undefined;
  }
}
