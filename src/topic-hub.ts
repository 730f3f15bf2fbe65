/**
 * The topics an endpoint publishes (topics.ts), by name, with the families that make topics on demand
 * (topic-family.ts), and the `/drpc/subscribe` and `/drpc/unsubscribe` routes that subscribers call.
 */
import type { Backlogs } from './backlog.ts';
import type { Clock } from './clock.ts';
import type { Router } from './router.ts';
import type { Session } from './session.ts';
import { Code, badMessage, codeError } from './status.ts';
import { TopicFamilies, type TopicFamily, type TopicFamilyOptions } from './topic-family.ts';
import type { TopicLogFactory } from './topic-log.ts';
import { SUBSCRIBE_METHOD, Topic, UNSUBSCRIBE_METHOD, type SubscribeReply, type TopicOptions } from './topics.ts';

/** The topics a peer publishes, and the `/drpc/subscribe` and `/drpc/unsubscribe` routes. */
export class TopicHub<Published extends number | Promise<number> = number> {
  readonly #topics = new Map<string, Topic<Published>>();
  readonly #bySession = new Map<Session, Set<Topic<Published>>>();
  /** Families of topics made on demand (topic-family.ts). */
  readonly #families: TopicFamilies<Published>;

  constructor(
    private readonly clock: Clock,
    private readonly backlogs?: Backlogs,
    /** Where the topics' logs live (default: memory; an endpoint's broker: shared by every node). */
    private readonly logs?: TopicLogFactory,
    /** Most topics one session subscribes to at once; more are refused with 500. */
    private readonly maxSubscriptions = 1000,
  ) {
    // A broker's log keeps its place itself; a memory log's is remembered when its topic is dropped.
    this.#families = new TopicFamilies(!logs);
  }

  /**
   * Declares (or returns) a topic; subscribing to an undeclared topic is a 404. A name ending in `*`
   * declares a family instead: its topics are made when a client subscribes to a name under that
   * prefix (once `authorize` allowed it) or one is published to (topic-family.ts).
   */
  topic(name: `${string}*`, options?: TopicFamilyOptions): TopicFamily<Published>;
  topic(name: string, options?: TopicOptions): Topic<Published>;
  topic(name: string, options?: TopicFamilyOptions): Topic<Published> | TopicFamily<Published> {
    if (name.endsWith('*')) return this.#families.declare(name, options);
    let t = this.#topics.get(name);
    if (!t) this.#topics.set(name, (t = new Topic<Published>(name, this.clock, options, this.backlogs, this.logs)));
    return t;
  }

  get(name: string): Topic<Published> | undefined {
    return this.#topics.get(name);
  }

  /** Topics on this node (a family's made ones too), and the subscriptions to them. */
  get counts(): { topics: number; subscriptions: number } {
    let subscriptions = 0;
    for (const mine of this.#bySession.values()) subscriptions += mine.size;
    return { topics: this.#topics.size, subscriptions };
  }

  /** Publishes to a topic (declaring it, with its family's options or the defaults, if needed); returns the offset. */
  publish(name: string, payload: unknown): Published {
    const t = this.#topics.get(name) ?? this.#make(name);
    if (t) {
      this.#families.touch(t);
      return t.publish(payload);
    }
    if (name.endsWith('*')) throw badMessage(`${JSON.stringify(name)} names a family of topics: publish to one of its topics`);
    return this.topic(name).publish(payload);
  }

  /** Closes every topic's log (the endpoint is closing). */
  close(): void {
    for (const t of this.#topics.values()) t.close();
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
    const options = (this.#topics.get(name) ?? this.#families.of(name))?.options;
    if (!options) throw codeError(Code.NotFound, `no topic ${JSON.stringify(name)}`);
    const allowed = options.authorize ? await options.authorize(session, name) : true;
    if (!allowed) throw codeError(Code.Unauthorized, `not allowed to subscribe to ${JSON.stringify(name)}`);
    if (session.state !== 'open') throw codeError(Code.ConnClosed, 'session closed while subscribing');
    let mine = this.#bySession.get(session);
    const had = this.#topics.get(name);
    if (mine && mine.size >= this.maxSubscriptions && !(had && mine.has(had)))
      throw codeError(Code.InternalServerError, `too many subscriptions: the session has ${mine.size} (maxSubscriptions)`);
    // A family's topic is made once a subscriber was allowed (it may have been made, or dropped, meanwhile).
    const t = (had ?? this.#make(name))!;
    this.#families.touch(t);
    const since = body as { offset?: unknown; epoch?: unknown };
    const offset = typeof since.offset === 'number' && Number.isSafeInteger(since.offset) && since.offset >= 0 ? since.offset : undefined;
    const epoch = typeof since.epoch === 'string' ? since.epoch : undefined;
    if (!mine) this.#bySession.set(session, (mine = new Set()));
    mine.add(t);
    return t.subscribe(session, { offset, epoch });
  }

  #drop(session: Session, t: Topic<Published>): void {
    t.subscribers.delete(session);
    this.#bySession.get(session)?.delete(t);
  }

  /** A topic of the family `name` falls under, made now (undefined when no family has it). */
  #make(name: string): Topic<Published> | undefined {
    return this.#families.make(
      name,
      (options, from) => {
        const t = new Topic<Published>(name, this.clock, options, this.backlogs, this.logs, from);
        this.#topics.set(name, t);
        return t;
      },
      (t) => void this.#topics.delete(t.name),
    );
  }
}

function topicName(body: unknown): string {
  const topic = (body as { topic?: unknown } | null)?.topic;
  if (typeof topic !== 'string' || !topic) throw codeError(Code.BadMessage, 'subscribe needs {"topic": "<name>"}');
  return topic;
}
