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
import type { Router } from './router.ts';
import type { Session } from './session.ts';
import { Code, codeError, badMessage } from './status.ts';
import { checkNumbers } from './options.ts';

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

interface Entry {
  offset: number;
  at: number;
  payload: unknown;
}

export class Topic {
  readonly epoch: string;
  /** The last offset published (0 before the first message). */
  offset = 0;
  readonly subscribers = new Set<Session>();
  #history: Entry[] = [];
  readonly #count: number;
  readonly #maxAge: number;

  constructor(
    readonly name: string,
    private readonly clock: Clock,
    readonly options: TopicOptions = {},
    /** Where messages for slow subscribers wait (none: every subscriber is written to at once). */
    readonly backlogs?: Backlogs,
  ) {
    if (typeof name !== 'string' || name === '') throw badMessage(`a topic needs a non-empty name, got ${JSON.stringify(name)}`);
    checkNumbers([
      ['history.count', options.history?.count, 0, true],
      ['history.maxAgeMs', options.history?.maxAgeMs, 0],
    ]);
    this.epoch = newEpoch();
    this.#count = options.history?.count ?? 1000;
    this.#maxAge = options.history?.maxAgeMs ?? 300_000;
  }

  /** Publishes to every subscriber (packed once); returns the message's offset. */
  publish(payload: unknown): number {
    const offset = ++this.offset;
    if (this.#count > 0) {
      this.#history.push({ offset, at: this.clock.now(), payload });
      this.#prune();
    }
    if (!this.subscribers.size) return offset;
    const meta = this.#meta(offset);
    const backlogs = this.backlogs;
    if (!backlogs) {
      broadcast(this.subscribers, TOPIC_PUSH_METHOD, payload, { meta });
      return offset;
    }
    // Subscribers that keep up get the shared frame; slow ones queue it, bounded (backlog.ts).
    const fast: Session[] = [];
    for (const s of this.subscribers) {
      if (!backlogs.isSlow(s)) {
        fast.push(s);
        continue;
      }
      const frame = packPush(s, payload, meta);
      if (frame !== undefined) backlogs.add(s, this.name, frame, this.options.slowPolicy ?? 'drop-oldest');
    }
    if (fast.length) broadcast(fast, TOPIC_PUSH_METHOD, payload, { meta });
    return offset;
  }

  /** Adds `session` and sends what it missed since `offset` of `epoch`; the reply says where it stands. */
  subscribe(session: Session, since?: { offset?: number; epoch?: string }): SubscribeReply {
    this.#prune();
    this.subscribers.add(session);
    const reply: SubscribeReply = { epoch: this.epoch, offset: this.offset };
    if (since?.offset === undefined) return reply; // a new subscriber starts with what comes next
    if (since.epoch !== undefined && since.epoch !== this.epoch) {
      reply.gap = { from: since.offset + 1, to: UNKNOWN_END, epochChanged: true };
      return reply;
    }
    const first = this.#history[0]?.offset ?? this.offset + 1;
    if (since.offset + 1 < first) reply.gap = { from: since.offset + 1, to: first - 1 };
    for (const e of this.#history)
      if (e.offset > since.offset) session.push(TOPIC_PUSH_METHOD, e.payload, { meta: this.#meta(e.offset) }).catch(() => {});
    return reply;
  }

  /** The retained history as [offset, payload] pairs (oldest first). */
  get history(): readonly Entry[] {
    this.#prune();
    return this.#history;
  }

  #meta(offset: number): Record<string, string> {
    return { [TOPIC_META.topic]: this.name, [TOPIC_META.offset]: String(offset), [TOPIC_META.epoch]: this.epoch };
  }

  #prune(): void {
    const h = this.#history;
    const oldest = this.clock.now() - this.#maxAge;
    let drop = Math.max(0, h.length - this.#count);
    while (drop < h.length && h[drop]!.at < oldest) drop++;
    if (drop) this.#history = h.slice(drop);
  }
}

/** The topics a peer publishes, and the `/drpc/subscribe` and `/drpc/unsubscribe` routes. */
export class TopicHub {
  readonly #topics = new Map<string, Topic>();
  readonly #bySession = new Map<Session, Set<Topic>>();

  constructor(
    private readonly clock: Clock,
    private readonly backlogs?: Backlogs,
  ) {}

  /** Declares (or returns) a topic; subscribing to an undeclared topic is a 404. */
  topic(name: string, options?: TopicOptions): Topic {
    let t = this.#topics.get(name);
    if (!t) this.#topics.set(name, (t = new Topic(name, this.clock, options, this.backlogs)));
    return t;
  }

  get(name: string): Topic | undefined {
    return this.#topics.get(name);
  }

  /** Publishes to a declared topic (declaring it with defaults if needed); returns the offset. */
  publish(name: string, payload: unknown): number {
    return this.topic(name).publish(payload);
  }

  route(router: Router): void {
    router.route(SUBSCRIBE_METHOD, (body, ctx) => this.#subscribe(body, ctx.session));
    router.route(UNSUBSCRIBE_METHOD, (body, ctx) => {
      const t = this.#topics.get(topicName(body));
      if (t) this.#drop(ctx.session, t);
      return null;
    });
  }

  /** Forgets a closed session everywhere (its owner calls this). */
  sessionClosed(session: Session): void {
    this.backlogs?.forget(session);
    const topics = this.#bySession.get(session);
    if (!topics) return;
    this.#bySession.delete(session);
    for (const t of topics) t.subscribers.delete(session);
  }

  async #subscribe(body: unknown, session: Session): Promise<SubscribeReply> {
    const name = topicName(body);
    const t = this.#topics.get(name);
    if (!t) throw codeError(Code.NotFound, `no topic ${JSON.stringify(name)}`);
    const allowed = t.options.authorize ? await t.options.authorize(session, name) : true;
    if (!allowed) throw codeError(Code.Unauthorized, `not allowed to subscribe to ${JSON.stringify(name)}`);
    if (session.state !== 'open') throw codeError(Code.ConnClosed, 'session closed while subscribing');
    const since = body as { offset?: unknown; epoch?: unknown };
    const offset = typeof since.offset === 'number' && Number.isSafeInteger(since.offset) && since.offset >= 0 ? since.offset : undefined;
    const epoch = typeof since.epoch === 'string' ? since.epoch : undefined;
    let mine = this.#bySession.get(session);
    if (!mine) this.#bySession.set(session, (mine = new Set()));
    mine.add(t);
    return t.subscribe(session, { offset, epoch });
  }

  #drop(session: Session, t: Topic): void {
    t.subscribers.delete(session);
    this.#bySession.get(session)?.delete(t);
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

function topicName(body: unknown): string {
  const topic = (body as { topic?: unknown } | null)?.topic;
  if (typeof topic !== 'string' || !topic) throw codeError(Code.BadMessage, 'subscribe needs {"topic": "<name>"}');
  return topic;
}

function newEpoch(): string {
  return Date.now().toString(36) + Math.random().toString(36).slice(2, 8);
}
