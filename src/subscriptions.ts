/**
 * The subscriber side of topics (see topics.ts): one subscription per topic on the wire (shared by
 * every subscribe() of it), kept across reconnects.
 * On every open session each subscription re-subscribes with its last offset and epoch, so the
 * publisher replays what was missed; duplicates (offset ≤ last) are dropped, holes are reported as
 * `gap` events, never silently skipped.
 */
import { Listeners } from './listeners.ts';
import { notify } from './push-listeners.ts';
import type { PushContext } from './router.ts';
import type { Session } from './session.ts';
import { Code, DrpcError, badMessage, show } from './status.ts';
import {
  SUBSCRIBE_METHOD,
  TOPIC_META,
  TOPIC_PUSH_METHOD,
  UNKNOWN_END,
  UNSUBSCRIBE_METHOD,
  type Gap,
  type SubscribeReply,
} from './topics.ts';

export interface TopicMessageInfo {
  topic: string;
  offset: number;
  epoch: string;
}

export type TopicHandler = (payload: unknown, info: TopicMessageInfo) => unknown;

export interface SubscribeOptions {
  /**
   * Start with the publisher's retained history after this offset (0 = all it still keeps), then
   * continue live; a `gap` when the history no longer reaches back that far. Default: with the next
   * message published. Reconnects resume from the last offset delivered either way.
   *
   * `{ offset, epoch }` (a subscription's `offset` and `epoch`, kept across a page reload): resume
   * that position; when the publisher's history was reset since (another epoch), a gap with
   * `epochChanged` says so instead of replaying offsets of the new history as if they followed.
   */
  since?: number | { offset: number; epoch: string };
}

export interface Subscription {
  readonly topic: string;
  /** The last offset delivered (0 before any). */
  readonly offset: number;
  readonly epoch: string | undefined;
  /** Resolves once the publisher confirmed the (first) subscription; rejects with its status (404, 401 …). */
  readonly ready: Promise<void>;
  /** Reported when messages can no longer be delivered (history too short, or reset). */
  onGap(cb: (gap: TopicGap) => void): () => void;
  /** This handler stops; the subscription ends when no other `subscribe()` of the topic is on. */
  unsubscribe(): Promise<void>;
}

type TopicGap = Gap & { topic: string };

/**
 * The wire subscription to a topic, shared by every `subscribe()` of it in this client; each gets a
 * Subscription whose prototype is the Sub (so `offset` and `epoch` read the shared ones).
 */
interface Sub extends Omit<Subscription, 'unsubscribe'> {
  offset: number;
  epoch: string | undefined;
  /** One entry per `subscribe()` still on (a handler given twice is two entries). */
  readonly handlers: Set<TopicHandler>;
  /** Start after this offset of the publisher's retained history (undefined: with what comes next). */
  readonly since: number | undefined;
  /** A subscribe call is in flight: holes are judged by its reply, not by the replayed messages. */
  pending: boolean;
  closed: boolean;
  // A listener that throws must not stop delivery nor leave `ready` unsettled: Listeners reports it.
  readonly gaps: Listeners<{ gap(gap: TopicGap): void }>;
  settleReady(err?: DrpcError): void;
}

/** Hears every gap and every failed subscribe (and what a throwing gap listener threw; default: reported as uncaught). */
interface Report {
  gap(gap: TopicGap): void;
  error(err: DrpcError): void;
  listenerError?(err: unknown): void;
}

export class Subscriptions {
  readonly #subs = new Map<string, Sub>();
  #session?: Session;
  readonly #report: Report;

  constructor(report: Report) {
    this.#report = report;
  }

  subscribe(topic: string, handler: TopicHandler, options: SubscribeOptions = {}): Subscription {
    if (typeof topic !== 'string' || topic === '') throw badMessage(`subscribe: the topic must be a non-empty string, got ${show(topic)}`);
    if (typeof handler !== 'function') throw badMessage(`subscribe ${show(topic)}: the handler must be a function`);
    const at = options.since;
    const shared = this.#subs.get(topic);
    // Another part of the app (a second component) listens to the same topic: one wire subscription.
    if (shared) {
      if (at !== undefined)
        throw new DrpcError(Code.InvalidOp, `already subscribed to ${show(topic)}: since applies to its first subscribe`);
      return this.#handle(shared, handler);
    }
    const { offset: since, epoch } = at && typeof at === 'object' ? at : { offset: at, epoch: undefined };
    if (at !== undefined && !(Number.isSafeInteger(since) && since! >= 0 && (epoch === undefined || (typeof epoch === 'string' && epoch))))
      throw badMessage(`subscribe ${show(topic)}: since must be an offset ≥ 0 or { offset, epoch }, got ${show(at)}`);
    let settleReady!: Sub['settleReady'];
    const ready = new Promise<void>((resolve, reject) => {
      settleReady = (err) => (err ? reject(err) : resolve());
    });
    ready.catch(() => {}); // a failed subscription is also reported through the client
    const gaps: Sub['gaps'] = new Listeners(this.#report.listenerError);
    const sub: Sub = {
      topic,
      handlers: new Set(),
      since,
      offset: since ?? 0,
      epoch,
      pending: false,
      closed: false,
      gaps,
      ready,
      settleReady,
      onGap: (cb) => gaps.on('gap', cb),
    };
    this.#subs.set(topic, sub);
    if (this.#session) this.#send(this.#session, sub);
    return this.#handle(sub, handler);
  }

  /** One subscribe()'s view of the wire subscription: its unsubscribe ends the wire one when it is the last. */
  #handle(sub: Sub, handler: TopicHandler): Subscription {
    const mine: TopicHandler = (payload, info) => handler(payload, info);
    sub.handlers.add(mine);
    const handle = Object.create(sub) as Subscription & { unsubscribe: Subscription['unsubscribe'] };
    handle.unsubscribe = async () => {
      if (!sub.handlers.delete(mine) || sub.handlers.size || sub.closed) return;
      this.#end(sub);
      await this.#session?.call(UNSUBSCRIBE_METHOD, { topic: sub.topic }).catch(() => {});
    };
    return handle;
  }

  /** A session opened: (re)subscribe everything from where it stands. */
  open(session: Session): void {
    this.#session = session;
    for (const sub of this.#subs.values()) this.#send(session, sub);
  }

  closed(session: Session): void {
    if (this.#session === session) this.#session = undefined;
  }

  /** The PUSH route for topic messages. */
  readonly receive = (payload: unknown, ctx: PushContext): unknown => {
    const meta = ctx.meta;
    const offset = Number(meta[TOPIC_META.offset]);
    const epoch = meta[TOPIC_META.epoch];
    const sub = this.#subs.get(meta[TOPIC_META.topic] as string); // no topic meta: finds none
    if (!sub || !Number.isSafeInteger(offset) || offset < 1 || !epoch) return;
    if (sub.epoch !== undefined && epoch !== sub.epoch) {
      // The publisher's history was reset: what we had is gone for good (while a subscribe is in
      // flight its reply reports this instead).
      if (!sub.pending) this.#gap(sub, { from: sub.offset + 1, to: UNKNOWN_END, epochChanged: true });
      sub.offset = offset - 1;
    }
    sub.epoch = epoch;
    if (offset <= sub.offset) return; // already delivered (a replay overlapping what we had)
    if (!sub.pending && sub.offset > 0 && offset > sub.offset + 1) this.#gap(sub, { from: sub.offset + 1, to: offset - 1 });
    sub.offset = offset;
    return notify(sub.handlers, payload, { topic: sub.topic, offset, epoch });
  };

  #gap(sub: Sub, gap: Gap): void {
    sub.gaps.emit('gap', { ...gap, topic: sub.topic });
    this.#report.gap({ ...gap, topic: sub.topic });
  }

  /** The subscription ends: no more messages, nor re-subscribing. */
  #end(sub: Sub): void {
    sub.closed = true;
    if (this.#subs.get(sub.topic) === sub) this.#subs.delete(sub.topic);
  }

  #send(session: Session, sub: Sub): void {
    // Known epoch: resume after the last offset delivered. First time with `since`: the retained
    // history after it, in whatever epoch the publisher has now. Otherwise: what comes next.
    const fresh = sub.epoch === undefined;
    const since = !fresh ? { offset: sub.offset, epoch: sub.epoch } : sub.since !== undefined ? { offset: sub.since } : {};
    sub.pending = true;
    session.call<SubscribeReply>(SUBSCRIBE_METHOD, { topic: sub.topic, ...since }, { timeout: 0 }).then(
      (reply) => {
        sub.pending = false;
        if (sub.closed) return;
        if (reply.gap) this.#gap(sub, reply.gap);
        if (reply.gap?.epochChanged) {
          // A new history: start from where it stands now (live messages that came first count).
          if (sub.epoch !== reply.epoch) sub.offset = reply.offset;
          sub.epoch = reply.epoch;
        } else {
          sub.epoch ??= reply.epoch;
          // Everything up to reply.offset was replayed before this reply, or reported as the gap
          // (a `since` past the topic's end starts at its end: later messages are not duplicates).
          sub.offset = fresh && sub.offset > reply.offset ? reply.offset : Math.max(sub.offset, reply.offset);
        }
        sub.settleReady();
      },
      (err: DrpcError) => {
        sub.pending = false;
        if (err.code === Code.ConnClosed) return; // the connection dropped: the next open re-subscribes
        // Refused (unknown topic, not allowed …): the subscription ends.
        this.#end(sub);
        sub.settleReady(err);
        this.#report.error(err);
      },
    );
  }
}

export { TOPIC_PUSH_METHOD };
