/**
 * The broker's two ioredis connections (commands, and a subscriber), to one Redis or to a Redis
 * Cluster, with the pub/sub commands that fit: PUBLISH / SUBSCRIBE on one Redis; on a cluster the
 * sharded SPUBLISH / SSUBSCRIBE (Redis 7), whose count of receivers covers the whole cluster (a
 * cluster's PUBLISH counts only the receivers on the node it reached, and the broker relies on the
 * count: 404 for a session no node holds, how many nodes answer a gather). Waiting for a connection,
 * and closing one, are bounded in time.
 */
import { Cluster, Redis, type ClusterNode, type RedisOptions } from 'ioredis';

/** One Redis or a Redis Cluster: the commands the broker uses are the same on both. */
export type Conn = Redis | Cluster;

export interface Connections {
  redis: Conn;
  sub: Conn;
  /** Whether `redis` is the broker's own (closed with it) rather than the app's. */
  owned: boolean;
  /** A cluster: sharded pub/sub. */
  sharded: boolean;
}

/** What `redisBroker({ redis, cluster })` connects to. */
export interface Target {
  redis?: string | RedisOptions | Redis | Cluster;
  cluster?: ClusterNode[];
}

export function openConnections({ redis: given, cluster }: Target): Connections {
  // Our own connections do not resend a command after a reconnect: a publish that failed must not
  // land later behind the caller's back. Waiting for Redis is bounded by `timeoutMs` instead.
  const own = { maxRetriesPerRequest: 0, autoResendUnfulfilledCommands: false, lazyConnect: false };
  if (given instanceof Cluster || cluster) {
    const redis = given instanceof Cluster ? given : new Cluster(cluster!, { redisOptions: own });
    const sub = redis.duplicate([], {
      shardedSubscribers: true,
      redisOptions: { ...redis.options.redisOptions, maxRetriesPerRequest: null },
    });
    return { redis, sub, owned: !(given instanceof Cluster), sharded: true };
  }
  const redis =
    given instanceof Redis
      ? given
      : typeof given === 'string' || given === undefined
        ? new Redis(given ?? 'redis://127.0.0.1:6379', own)
        : new Redis({ ...given, ...own });
  const sub = redis.duplicate({ maxRetriesPerRequest: null, autoResubscribe: true });
  return { redis, sub, owned: !(given instanceof Redis), sharded: false };
}

/**
 * On a cluster, reads the slot map again every `ms` until the returned stop is called. ioredis does
 * so only when told to (its `slotsRefreshInterval` has no default), and a subscriber sends no command
 * that would hear of a moved slot (a failover): without this it stays on the demoted owner and the
 * node's delivery stalls. After a read that finds the map changed, ioredis subscribes again on the
 * new owners and says `subscribersReady` (the topic logs then read back what they missed). Our own
 * timer, not ioredis's interval: that one can start again after `quit()` and keep a process alive.
 */
export function keepSlotsFresh({ redis, sub, sharded }: Connections, ms = 2000): () => void {
  if (!sharded) return () => {};
  const timer = setInterval(() => {
    for (const c of [redis, sub]) if (c instanceof Cluster && c.status === 'ready') c.refreshSlotsCache();
  }, ms);
  timer.unref?.();
  return () => clearInterval(timer);
}

/** The pub/sub commands for these connections: sharded on a cluster. */
export interface PubSub {
  /** Resolves with how many subscribers got the message (on a cluster too: sharded). */
  publish(channel: string, message: Buffer): Promise<number>;
  subscribe(channel: string): Promise<unknown>;
  unsubscribe(channel: string): Promise<unknown>;
  /** The subscriber's event for a message. */
  event: 'messageBuffer' | 'smessageBuffer';
  /** The publish command in a script. */
  command: 'PUBLISH' | 'SPUBLISH';
}

export function pubSub({ redis, sub, sharded }: Connections): PubSub {
  return sharded
    ? {
        publish: (channel: string, message: Buffer) => redis.spublish(channel, message) as Promise<number>,
        subscribe: (channel: string) => sub.ssubscribe(channel),
        unsubscribe: (channel: string) => sub.sunsubscribe(channel),
        event: 'smessageBuffer',
        command: 'SPUBLISH',
      }
    : {
        publish: (channel: string, message: Buffer) => redis.publish(channel, message),
        subscribe: (channel: string) => sub.subscribe(channel),
        unsubscribe: (channel: string) => sub.unsubscribe(channel),
        event: 'messageBuffer',
        command: 'PUBLISH',
      };
}

const waiting = new WeakMap<Conn, Promise<void>>();

/** Resolves when `conn` is ready (one listener however many commands wait); rejects after `ms`, or at once when it was closed for good. */
export function ready(conn: Conn, ms: number): Promise<void> {
  if (conn.status === 'end') return Promise.reject(new Error('connection closed'));
  let wait = waiting.get(conn);
  if (!wait) {
    wait = new Promise<void>((resolve) =>
      conn.once('ready', () => {
        waiting.delete(conn);
        resolve();
      }),
    );
    waiting.set(conn, wait);
  }
  return within(wait, ms, `not connected within ${ms} ms (${conn.status})`);
}

export function within<T>(p: Promise<T>, ms: number, why = `no answer within ${ms} ms`): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(why)), ms)))]).finally(() =>
    clearTimeout(timer),
  );
}

export async function quit(conn: Conn): Promise<void> {
  try {
    await within(conn.quit(), 1000);
  } catch {
    conn.disconnect();
  }
}
