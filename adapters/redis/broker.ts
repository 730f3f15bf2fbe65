/**
 * redisBroker(): endpoints on many nodes share topics and session pushes through Redis (DESIGN.md,
 * scale-out). Offsets and history live in Redis Streams, given out by one script per publish, so a
 * client resumes on any node; live messages reach every node by pub/sub; a push to a session id is
 * published on that session's channel, which only the node holding it listens to.
 *
 * On a Redis Cluster (`cluster: [{ host, port }]`, or `redis:` an ioredis Cluster) the pub/sub is
 * sharded (connection.ts).
 *
 *   const broker = redisBroker({ redis: 'redis://127.0.0.1:6379' });
 *   const ep = createEndpoint({ broker });        // on every node
 *   await ep.close(); await broker.close();
 */
import type { Cluster, ClusterNode, Redis, RedisOptions } from 'ioredis';
import type { Broker } from '../node/broker.ts';
import type { Deliver, LogLimits, TopicLog } from '../../src/topic-log.ts';
import { Code, DrpcError, codeText } from '../../src/status.ts';
import { checkNumbers } from '../../src/options.ts';
import { RedisLog, type LogLink } from './log.ts';
import { APPEND, READ } from './scripts.ts';
import { SessionRelay } from './relay.ts';
import { encodeFor } from './requests.ts';
import { Liveness } from './liveness.ts';
import { RedisReplies } from './replies.ts';
import { keepSlotsFresh, openConnections, pubSub, quit, ready, within, type Conn, type PubSub } from './connection.ts';

export interface RedisBrokerOptions {
  /**
   * A connection URL, ioredis options, or an ioredis client of yours: a `Redis`, or a `Cluster` for a
   * Redis Cluster (Redis 7: sharded pub/sub). The broker adds a subscriber from it. Default 'redis://127.0.0.1:6379'.
   */
  redis?: string | RedisOptions | Redis | Cluster;
  /** A Redis Cluster's startup nodes (instead of `redis`): the broker connects with ioredis's `Cluster`. */
  cluster?: ClusterNode[];
  /** Prefix of every key and channel, so several apps can share one Redis. Default 'drpc:'. */
  prefix?: string;
  /** How long a publish or a subscribe waits for Redis before it fails with 502, in ms. Default 5000. */
  timeoutMs?: number;
  /** Redis errors nobody awaits (a lost connection, a failed catch-up). Default: console.warn. */
  onError?: (err: DrpcError) => void;
  /**
   * How often this node tells Redis it is alive, in ms. A node waiting for a relayed call's reply
   * takes the node holding the session for dead when it stays silent for about 3 beats (+ 2 checks),
   * and fails the call with 102. At least 10. Default 1000.
   */
  heartbeatMs?: number;
  /**
   * Also record durable calls in Redis, so that a call re-sent after its node crashed is answered with
   * its reply, or refused with 409 when it was still running there (it may have taken effect), instead
   * of running again. Costs one Redis round trip before each durable call's handler, and one write
   * after it. Default false: a crashed node's replies are lost with it (a graceful close hands them over).
   */
  keepReplies?: boolean;
}

type Scripted = Conn & {
  drpcAppend(
    hash: string,
    stream: string,
    epoch: string,
    payload: Buffer,
    count: number,
    channel: string,
    publish: string,
  ): Promise<[number, string]>;
  drpcReadBuffer(hash: string, stream: string, epoch: string, after: number, maxAge: number): Promise<unknown>;
};

export function redisBroker(options: RedisBrokerOptions = {}): RedisBroker {
  return new RedisBroker(options);
}

export class RedisBroker implements Broker {
  readonly prefix: string;
  readonly #redis: Scripted;
  readonly #sub: Conn;
  readonly #owned: boolean;
  /** PUBLISH / SUBSCRIBE, or on a cluster their sharded forms. */
  readonly #pubsub: PubSub;
  readonly #timeout: number;
  readonly #report: (err: DrpcError) => void;
  /** Topic logs by channel. */
  readonly #logs = new Map<string, RedisLog>();
  /** Pushes, calls and broadcasts between nodes. */
  readonly #relay: SessionRelay;
  /** This node's beat, and the nodes it waits for. */
  readonly #liveness: Liveness;
  /** Stops reading a cluster's slot map (connection.ts). */
  readonly #stopSlots: () => void;
  #everReady = false;
  /** Connections whose loss was reported (until they are ready again). */
  readonly #down = new Set<string>();
  /** Connections that were ready once (a later drop is a loss, not a first attempt). */
  readonly #seen = new Set<string>();
  #closed = false;
  #closing = false;
  readonly replies?: RedisReplies;

  constructor(options: RedisBrokerOptions = {}) {
    checkNumbers([
      ['timeoutMs', options.timeoutMs, 1],
      ['heartbeatMs', options.heartbeatMs, 10],
    ]);
    this.prefix = options.prefix ?? 'drpc:';
    this.#timeout = options.timeoutMs ?? 5000;
    this.#report = options.onError ?? ((err) => console.warn(`[drpc] redis broker: ${err.detail}`));
    const conns = openConnections(options);
    const { redis } = conns;
    this.#owned = conns.owned;
    this.#pubsub = pubSub(conns);
    redis.defineCommand('drpcAppend', { numberOfKeys: 2, lua: APPEND });
    redis.defineCommand('drpcRead', { numberOfKeys: 2, lua: READ });
    this.#redis = redis as Scripted;
    this.#sub = conns.sub;
    // ioredis reports every failed reconnect attempt: one report per outage and connection is enough.
    for (const [conn, which] of [
      [redis, 'commands'],
      [this.#sub, 'subscriber'],
    ] as const) {
      conn.on('error', (err: Error) => this.#lost(which, err));
      conn.on('ready', () => {
        this.#down.delete(which);
        this.#seen.add(which);
      });
    }
    this.#sub.on(this.#pubsub.event, (channel: Buffer, message: Buffer) => this.#message(channel.toString(), message));
    this.#relay = new SessionRelay({
      prefix: this.prefix,
      publish: (what, channel, message) => this.#command(what, () => this.#pubsub.publish(channel, message)),
      // While Redis is away, a session or inbox does not wait for it: the SUBSCRIBE goes out (and
      // holds) once the subscriber is back.
      listen: (channel) =>
        this.#lostNow(this.#sub)
          ? (this.#pubsub.subscribe(channel).catch(() => {}), Promise.resolve())
          : this.#command(`listen to ${channel}`, () => this.#pubsub.subscribe(channel), this.#sub),
      unlisten: (channel) => {
        if (!this.#closed) this.#pubsub.unsubscribe(channel).catch(() => {});
      },
      // A connection is not held up while Redis is away: its claim fails at once (see BrokerLink.claim).
      // The node key and the claim counter share a hash tag (one cluster slot), so MULTI holds on a cluster too.
      swapNode: async (id, node, ttlMs) => {
        const ttl = Math.max(1, Math.ceil(ttlMs));
        const [set, incr] = (await this.#command(
          `claim client ${JSON.stringify(id)}`,
          () =>
            this.#redis
              .multi()
              .set(`${this.prefix}o:{${id}}`, node, 'PX', ttl, 'GET')
              .incr(`${this.prefix}n:{${id}}`)
              .pexpire(`${this.prefix}n:{${id}}`, ttl)
              .exec(),
          this.#redis,
          false,
        )) as [[Error | null, string | null], [Error | null, number]];
        if (set[0] || incr[0])
          throw new DrpcError(
            Code.BadGateway,
            codeText(Code.BadGateway),
            `claim client ${JSON.stringify(id)}: ${String(set[0] ?? incr[0])}`,
          );
        return { previous: set[1], version: incr[1] };
      },
      timeoutMs: this.#timeout,
      watch: (node, gone) => this.#liveness.watch(node, gone),
      alive: (node) => this.#liveness.alive(node),
      report: this.#report,
    });
    const redisOf = this.#redis;
    this.#liveness = new Liveness(
      {
        // None of them waits for a connection known lost: the next beat or check tries again.
        beat: (key, ttlMs) => this.#command('heartbeat', () => redisOf.set(key, '1', 'PX', ttlMs), redisOf, false),
        // One EXISTS per key: on a cluster the keys live in different slots.
        exist: (keys) =>
          this.#command('liveness check', () => Promise.all(keys.map((k) => redisOf.exists(k).then((n) => n > 0))), redisOf, false),
        forget: (key) => this.#command('forget this node', () => redisOf.del(key), redisOf, false),
      },
      this.#relay.address,
      options.heartbeatMs ?? 1000,
    );
    this.#liveness.start();
    if (options.keepReplies)
      this.replies = new RedisReplies({
        prefix: this.prefix,
        command: (what, run) => this.#command(what, () => run(redisOf), redisOf, false),
        report: this.#report,
      });
    const catchUp = () => {
      for (const log of this.#logs.values()) log.catchUp();
    };
    this.#sub.on('ready', () => {
      // ioredis re-subscribed before 'ready'; what was published while we were away is read back.
      if (this.#everReady) catchUp();
      this.#everReady = true;
    });
    // On a cluster, a shard's subscriptions move when its slots do (a failover): ioredis subscribes
    // again on the new owner and says so; what the old one dropped meanwhile is read back.
    if (conns.sharded) this.#sub.on('subscribersReady', catchUp);
    this.#stopSlots = keepSlotsFresh(conns);
  }

  readonly logs = (topic: string, limits: LogLimits, deliver: Deliver): TopicLog => {
    const key = `${this.prefix}{t:${topic}}`;
    // The channel has the keys' hash tag: on a cluster the script's SPUBLISH stays in their slot.
    const channel = `${key}:c`;
    const link: LogLink = {
      topic,
      limits,
      append: (payload, epoch) => {
        const what = `publish to ${JSON.stringify(topic)}`;
        const bytes = encodeFor(what, payload);
        return this.#command(what, () =>
          this.#redis.drpcAppend(`${key}:m`, `${key}:l`, epoch, bytes, limits.count, channel, this.#pubsub.command),
        );
      },
      read: (after, epoch) =>
        this.#command(`read ${JSON.stringify(topic)}`, () =>
          this.#redis.drpcReadBuffer(`${key}:m`, `${key}:l`, epoch, after ?? -1, limits.maxAgeMs),
        ),
      subscribe: () => this.#command(`listen to ${JSON.stringify(topic)}`, () => this.#pubsub.subscribe(channel), this.#sub),
      unsubscribe: () => {
        this.#logs.delete(channel);
        if (!this.#closed) this.#pubsub.unsubscribe(channel).catch(() => {});
      },
      report: (err) => this.#report(DrpcError.from(err, Code.BadGateway)),
    };
    const log = new RedisLog(link, deliver);
    this.#logs.set(channel, log);
    return log;
  };

  // What other nodes reach this one by, and reaching them: the relay's (relay.ts).
  readonly hold: Broker['hold'] = (id, session) => this.#relay.hold(id, session);
  readonly release: Broker['release'] = (id) => this.#relay.release(id);
  readonly relay: Broker['relay'] = (id, push) => this.#relay.push(id, push);
  readonly kick: Broker['kick'] = (id, status) => this.#relay.kick(id, status);
  readonly relayCall: Broker['relayCall'] = (id, call, waitMs) => this.#relay.call(id, call, waitMs);
  readonly serveClients: Broker['serveClients'] = (records) => this.#relay.serveClients(records);
  readonly claimClient: Broker['claimClient'] = (id, ttlMs, claimed) => this.#relay.claimClient(id, ttlMs, claimed);
  readonly watchNode: Broker['watchNode'] = (address, gone) => this.#liveness.watch(address, gone);
  readonly releaseKey: Broker['releaseKey'] = (key) => this.#relay.releaseKey(key);
  readonly ask: Broker['ask'] = (key, request, waitMs) => this.#relay.ask(key, request, waitMs);
  readonly send: Broker['send'] = (address, message) => this.#relay.send(address, message);
  readonly fanOut: Broker['fanOut'] = (b) => this.#relay.fanOut(b);
  readonly onFanOut: Broker['onFanOut'] = (deliver) => this.#relay.onFanOut(deliver);
  readonly holdKey: Broker['holdKey'] = (key, answer) => this.#relay.holdKey(key, answer);
  readonly openInbox: Broker['openInbox'] = (deliver) => this.#relay.openInbox(deliver);
  readonly onGather: Broker['onGather'] = (answer) => this.#relay.onGather(answer);
  readonly gather: Broker['gather'] = (request, waitMs) => this.#relay.gather(request, waitMs);

  /**
   * Closes both connections (ours: QUIT; yours: only the subscriber the broker made), after
   * `lingerMs` (default 0) in which it goes on serving other nodes: give it your clients' reconnect
   * delay on a rolling restart, so the clients that move can still claim their calls from this node.
   */
  async close({ lingerMs = 0 }: { lingerMs?: number } = {}): Promise<void> {
    checkNumbers([['lingerMs', lingerMs, 0]]);
    if (this.#closed || this.#closing) return;
    // A rolling restart: the clients of this node's endpoint (closed just before) move to other
    // nodes, which claim their calls from here; for `lingerMs` those claims are still answered.
    this.#closing = true;
    if (lingerMs > 0) await new Promise((r) => setTimeout(r, lingerMs));
    await this.#liveness.stop();
    this.#stopSlots();
    this.#closed = true;
    for (const log of [...this.#logs.values()]) log.close();
    this.#relay.close();
    await Promise.all([quit(this.#sub), this.#owned ? quit(this.#redis) : undefined]);
  }

  /** Every message from Redis enters here: one that cannot be read (or whose handler throws) is reported, never thrown. */
  #message(channel: string, message: Buffer): void {
    try {
      const log = this.#logs.get(channel);
      if (log) log.live(message);
      else this.#relay.message(channel, message);
    } catch (err) {
      this.#report(new DrpcError(Code.BadMessage, codeText(Code.BadMessage), `a message on ${channel} could not be read: ${String(err)}`));
    }
  }

  /** Runs a command once its connection is ready (waiting at most `timeoutMs`; with `wait` false, not at all for a connection known lost); a failure is a 502 naming what failed. */
  async #command<T>(what: string, run: () => Promise<T>, conn: Conn = this.#redis, wait = true): Promise<T> {
    if (this.#closed) throw new DrpcError(Code.ConnClosed, codeText(Code.ConnClosed), `${what}: the redis broker is closed`);
    try {
      if (conn.status !== 'ready') {
        // A connection still making its first attempt is waited for; one known lost, only if asked.
        if (!wait && this.#lostNow(conn)) throw new Error(`not connected (${conn.status})`);
        await ready(conn, this.#timeout);
      }
      return await within(run(), this.#timeout);
    } catch (err) {
      throw new DrpcError(
        Code.BadGateway,
        codeText(Code.BadGateway),
        `${what}: redis: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
  }

  /** `conn` is not ready and that is a loss (it was ready before, or its attempts fail), not its first attempt. */
  #lostNow(conn: Conn): boolean {
    const which = conn === this.#sub ? 'subscriber' : 'commands';
    return conn.status !== 'ready' && (this.#seen.has(which) || this.#down.has(which));
  }

  #lost(which: string, err: unknown): void {
    if (this.#closed || this.#down.has(which)) return;
    this.#down.add(which);
    this.#report(
      new DrpcError(Code.BadGateway, codeText(Code.BadGateway), `${which} connection: ${err instanceof Error ? err.message : String(err)}`),
    );
  }
}
