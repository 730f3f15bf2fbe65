/**
 * A family of topics: names under one prefix, declared once as `<prefix>*` (a room, a document, a
 * user's feed per id), as Phoenix's `"room:*"` channels or Centrifugo's namespaces. Its topics are
 * made on demand, when a client subscribes (after `authorize`) or when one is published to, and
 * dropped when nobody subscribes and their history expired, so the family stays within `maxTopics`.
 */
import type { LogStart } from './topic-log.ts';
import { checkTopicOptions, type Topic, type TopicOptions } from './topics.ts';
import { Code, badMessage, codeError } from './status.ts';

export interface TopicFamilyOptions extends TopicOptions {
  /**
   * Topics of the family kept at once. One nobody subscribes to is dropped once its history expired,
   * or sooner when the family is full (a subscriber resuming from it then gets a gap for what was
   * kept). Full with a subscriber on every topic: a new one is refused with 500. Default 10000.
   */
  maxTopics?: number;
}

/** Topics a new one checks for dropping when the family is not full (the least recently used first). */
const SWEEP = 4;
/** Places of dropped memory topics remembered at most. */
const MAX_DROPPED = 65_536;

export class TopicFamily<Published extends number | Promise<number> = number> {
  readonly #topics = new Map<string, Topic<Published>>();
  /** Names of the family start with it: the pattern without its `*`. */
  readonly prefix: string;
  readonly maxTopics: number;

  constructor(
    readonly pattern: string,
    readonly options: TopicFamilyOptions = {},
  ) {
    if (typeof pattern !== 'string' || !pattern.endsWith('*') || pattern.indexOf('*') !== pattern.length - 1)
      throw badMessage(`a family of topics is named "<prefix>*", with one * at the end, got ${JSON.stringify(pattern)}`);
    // Checked now, not when a client first subscribes.
    checkTopicOptions(options, [['maxTopics', options.maxTopics, 1, true]]);
    this.prefix = pattern.slice(0, -1);
    this.maxTopics = options.maxTopics ?? 10_000;
  }

  /** The family's topics by name, least recently used (subscribed to, published to) first. */
  get topics(): ReadonlyMap<string, Topic<Published>> {
    return this.#topics;
  }

  /** Takes a topic just made (as the most recently used). */
  add(t: Topic<Published>): void {
    this.#topics.set(t.name, t);
  }

  /** Marks `t` as just used. */
  touch(t: Topic<Published>): void {
    if (this.#topics.get(t.name) !== t) return;
    this.#topics.delete(t.name);
    this.#topics.set(t.name, t);
  }

  /**
   * Makes room for one more topic: takes out and `drop`s the least recently used topics that nobody subscribes to
   * and that keep nothing (a few per call), and when the family is full, such topics even with history.
   * Throws 500 when it stays full (every topic has subscribers).
   */
  makeRoom(drop: (t: Topic<Published>) => void): void {
    const topics = this.#topics;
    let checked = 0;
    for (const t of topics.values()) {
      const full = topics.size >= this.maxTopics;
      if (!full && ++checked > SWEEP) break;
      if (t.subscribed || (!full && t.held)) continue;
      topics.delete(t.name);
      drop(t);
    }
    if (topics.size >= this.maxTopics)
      throw codeError(
        Code.InternalServerError,
        `topic family ${JSON.stringify(this.pattern)} is full: ${this.maxTopics} topics with subscribers (maxTopics)`,
      );
  }
}

/** A hub's families: which family a name falls under, and making and dropping their topics. */
export class TopicFamilies<Published extends number | Promise<number> = number> {
  /** Longest prefix first. */
  readonly #list: TopicFamily<Published>[] = [];
  readonly #familyOf = new WeakMap<Topic<Published>, TopicFamily<Published>>();
  /** Where dropped topics stood, oldest first (memory logs: see `make`). */
  readonly #dropped = new Map<string, LogStart>();

  /** `keepPlaces`: remember where a dropped topic stood (its log is in memory, so nothing else does). */
  constructor(private readonly keepPlaces: boolean) {}

  /** Declares (or returns) the family `pattern` ("<prefix>*"). */
  declare(pattern: string, options?: TopicFamilyOptions): TopicFamily<Published> {
    let f = this.#list.find((f) => f.pattern === pattern);
    if (!f) {
      this.#list.push((f = new TopicFamily<Published>(pattern, options)));
      this.#list.sort((a, b) => b.prefix.length - a.prefix.length);
    }
    return f;
  }

  /** The family a topic name falls under (a name ending in `*` is a family's, never one of its topics). */
  of(name: string): TopicFamily<Published> | undefined {
    return name.endsWith('*') ? undefined : this.#list.find((f) => name.startsWith(f.prefix));
  }

  /** Marks a family's topic as just used (others are not any family's). */
  touch(t: Topic<Published>): void {
    this.#familyOf.get(t)?.touch(t);
  }

  /**
   * Makes topic `name` of its family (undefined when none has it): room first, `drop`ping topics
   * nobody needs, then `create` with the family's options and where a dropped topic of that name stood.
   */
  make(
    name: string,
    create: (options: TopicFamilyOptions, from?: LogStart) => Topic<Published>,
    drop: (t: Topic<Published>) => void,
  ): Topic<Published> | undefined {
    const f = this.of(name);
    if (!f) return undefined;
    f.makeRoom((t) => {
      t.close();
      drop(t);
      // Its offsets go on when it is made again, so a subscriber resuming from one of them learns of
      // what it missed as a gap, not of a new epoch (bounded: past it, a new epoch is reported).
      if (!this.keepPlaces || t.offset === 0) return;
      this.#dropped.set(t.name, { epoch: t.epoch, offset: t.offset });
      if (this.#dropped.size > MAX_DROPPED) this.#dropped.delete(this.#dropped.keys().next().value!);
    });
    const from = this.#dropped.get(name);
    this.#dropped.delete(name);
    const t = create(f.options, from);
    f.add(t);
    this.#familyOf.set(t, f);
    return t;
  }
}
