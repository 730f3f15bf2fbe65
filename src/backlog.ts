/**
 * Slow consumers: a subscriber whose socket stops draining must not grow the publisher's memory.
 * While a session's transport holds more than `highWaterBytes` unsent, its topic messages wait in a
 * per-session backlog bounded in count and bytes; past the bound the topic's policy applies:
 *   'drop-oldest' drops the oldest waiting message (the subscriber then reports the gap),
 *   'conflate'    keeps only the latest message per topic,
 *   'close'       closes the session with 1503 Slow Consumer.
 * A timer drains backlogs in order once the transport is below half the high-water mark.
 */
import type { Clock, TimerHandle } from './clock.ts';
import type { Frame } from './proto/proto.ts';
import type { Session } from './session.ts';
import { Code, codeText } from './status.ts';

export type SlowPolicy = 'drop-oldest' | 'conflate' | 'close';

export interface SlowConsumerOptions {
  /** Unsent bytes a transport may hold before messages wait in the backlog. Default 1 MiB. */
  highWaterBytes?: number;
  /** Messages a session's backlog holds at most. Default 1000. */
  maxQueued?: number;
  /** Bytes a session's backlog holds at most. Default 8 MiB. */
  maxQueuedBytes?: number;
  /** How often backlogs are drained, in ms. Default 25. */
  drainEveryMs?: number;
}

interface Waiting {
  topic: string;
  frame: Frame;
  bytes: number;
}

export class Backlogs {
  readonly #queues = new Map<Session, Waiting[]>();
  readonly #bytes = new Map<Session, number>();
  readonly #high: number;
  readonly #maxQueued: number;
  readonly #maxBytes: number;
  readonly #every: number;
  #timer?: TimerHandle;
  /** Messages dropped by drop-oldest or conflate, and sessions closed with 1503, since the start. */
  dropped = 0;
  closed = 0;

  constructor(
    private readonly clock: Clock,
    options: SlowConsumerOptions = {},
  ) {
    this.#high = options.highWaterBytes ?? 1 << 20;
    this.#maxQueued = options.maxQueued ?? 1000;
    this.#maxBytes = options.maxQueuedBytes ?? 8 << 20;
    this.#every = options.drainEveryMs ?? 25;
  }

  /** True when messages to `session` must wait (its transport is full, or others already wait). */
  isSlow(session: Session): boolean {
    return this.#queues.has(session) || session.transport.bufferedAmount > this.#high;
  }

  /** Messages waiting for `session` (count, bytes). */
  waiting(session: Session): { count: number; bytes: number } {
    return { count: this.#queues.get(session)?.length ?? 0, bytes: this.#bytes.get(session) ?? 0 };
  }

  /** Queues a packed frame of `topic` for a slow session, applying `policy` past the bounds. */
  add(session: Session, topic: string, frame: Frame, policy: SlowPolicy): void {
    let q = this.#queues.get(session);
    if (!q) this.#queues.set(session, (q = []));
    const bytes = typeof frame === 'string' ? frame.length * 2 : frame.length;
    if (policy === 'conflate') {
      const i = q.findIndex((w) => w.topic === topic);
      if (i >= 0) this.#drop(session, q, i);
    }
    q.push({ topic, frame, bytes });
    this.#bytes.set(session, (this.#bytes.get(session) ?? 0) + bytes);
    while (q.length > this.#maxQueued || (this.#bytes.get(session) ?? 0) > this.#maxBytes) {
      if (policy === 'close') {
        this.closed++;
        this.forget(session);
        session.abort(
          {
            code: Code.SlowConsumer,
            msg: codeText(Code.SlowConsumer),
            cause: `more than ${this.#maxQueued} messages or ${this.#maxBytes} bytes waiting`,
          },
          'slow consumer',
        );
        return;
      }
      const i = q.findIndex((w) => w.topic === topic);
      this.#drop(session, q, i >= 0 ? i : 0);
    }
    this.#timer ??= this.clock.setTimeout(() => this.#drain(), this.#every);
  }

  /** Drops a session's backlog (it closed). */
  forget(session: Session): void {
    this.#queues.delete(session);
    this.#bytes.delete(session);
  }

  stop(): void {
    if (this.#timer !== undefined) this.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Sessions with messages waiting, and the bytes of those messages. */
  get waitingNow(): { sessions: number; bytes: number } {
    let bytes = 0;
    for (const b of this.#bytes.values()) bytes += b;
    return { sessions: this.#queues.size, bytes };
  }

  #drop(session: Session, q: Waiting[], i: number): void {
    this.dropped++;
    const [w] = q.splice(i, 1);
    this.#bytes.set(session, (this.#bytes.get(session) ?? 0) - (w?.bytes ?? 0));
  }

  #drain(): void {
    this.#timer = undefined;
    for (const [session, q] of this.#queues) {
      if (session.state !== 'open') {
        this.forget(session);
        continue;
      }
      while (q.length && session.transport.bufferedAmount <= this.#high / 2) {
        const w = q.shift()!;
        this.#bytes.set(session, (this.#bytes.get(session) ?? 0) - w.bytes);
        session.writeFrame(w.frame)?.catch(() => {});
      }
      if (!q.length) this.forget(session);
    }
    if (this.#queues.size) this.#timer = this.clock.setTimeout(() => this.#drain(), this.#every);
  }
}
