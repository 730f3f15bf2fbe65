/**
 * A topic's log: where its messages get their offsets and are kept for resume. One node keeps it in
 * memory (`memoryLog`, the default); nodes behind a broker share one (adapters/redis), so a client
 * resumes on any node. The Topic on each node only fans out what its log delivers.
 */
import type { Clock } from './clock.ts';

export interface LogEntry {
  offset: number;
  payload: unknown;
}

/** Where a log stands, with what it keeps after an offset. */
export interface LogState {
  epoch: string;
  /** The last offset appended (0 before the first message). */
  offset: number;
  /** The oldest offset still kept (`offset + 1` when nothing is). */
  first: number;
  /** The kept entries after the offset asked for, oldest first (none when none was asked for). */
  entries: readonly LogEntry[];
}

/** How much history a log keeps: at most `count` messages, none older than `maxAgeMs`. */
export interface LogLimits {
  count: number;
  maxAgeMs: number;
}

/** Hands a message to the topic's subscribers on this node, in offset order. */
export type Deliver = (offset: number, epoch: string, payload: unknown) => void;

export interface TopicLog {
  /** The epoch and last offset this node has seen (before the first read of a shared log: '' and 0). */
  readonly epoch: string;
  readonly offset: number;
  /**
   * Gives the message the next offset and keeps it; the log then calls `deliver` with it, at once
   * (memory) or when the broker hands it to every node. Resolves with the offset.
   */
  append(payload: unknown): number | Promise<number>;
  /** Where the log stands, with the entries after `after` (none when it is undefined). */
  read(after?: number): LogState | Promise<LogState>;
  /** Stops delivering (the endpoint is closing, or the topic was dropped). */
  close?(): void;
  /** Whether dropping the log loses history only this process has (a memory log's kept messages). */
  readonly held?: boolean;
}

/** Where a log starts: the epoch and last offset of a log of the same topic that was dropped. */
export interface LogStart {
  epoch: string;
  offset: number;
}

/**
 * Makes the log of one topic (an endpoint's `broker` option supplies a shared one). `from`: a memory
 * log goes on from where a dropped log of the topic stood (a shared log keeps its place itself).
 */
export type TopicLogFactory = (topic: string, limits: LogLimits, deliver: Deliver, from?: LogStart) => TopicLog;

/** A topic's log in this process's memory: offsets start at 1, the epoch is new each start. */
export function memoryLog(clock: Clock): TopicLogFactory {
  return (_topic, limits, deliver, from) => new MemoryLog(clock, limits, deliver, from);
}

interface Kept extends LogEntry {
  at: number;
}

class MemoryLog implements TopicLog {
  readonly epoch: string;
  offset: number;
  #kept: Kept[] = [];

  constructor(
    private readonly clock: Clock,
    private readonly limits: LogLimits,
    private readonly deliver: Deliver,
    from?: LogStart,
  ) {
    this.epoch = from?.epoch ?? newEpoch();
    this.offset = from?.offset ?? 0;
  }

  get held(): boolean {
    this.#prune();
    return this.#kept.length > 0;
  }

  append(payload: unknown): number {
    const offset = ++this.offset;
    if (this.limits.count > 0) {
      this.#kept.push({ offset, at: this.clock.now(), payload });
      this.#prune();
    }
    this.deliver(offset, this.epoch, payload);
    return offset;
  }

  read(after?: number): LogState {
    this.#prune();
    const kept = this.#kept;
    return {
      epoch: this.epoch,
      offset: this.offset,
      first: kept[0]?.offset ?? this.offset + 1,
      entries: after === undefined ? [] : kept.filter((e) => e.offset > after),
    };
  }

  #prune(): void {
    const kept = this.#kept;
    const oldest = this.clock.now() - this.limits.maxAgeMs;
    let drop = Math.max(0, kept.length - this.limits.count);
    while (drop < kept.length && kept[drop]!.at < oldest) drop++;
    if (drop) this.#kept = kept.slice(drop);
  }
}

/** A fresh epoch: a log that starts over (a restart, a flushed broker) is never mistaken for the old one. */
export function newEpoch(): string {
  return Date.now().toString(36) + Math.random().toString(36).slice(2, 8);
}
