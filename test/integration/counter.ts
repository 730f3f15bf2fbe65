/**
 * A side effect every node of a scale-out test shares, to count how often a call ran: `/incr` adds
 * one to a Redis counter (the key is the call's body). With `then: 'hang'` the handler never returns
 * after it; with `then: <ms>` it returns that much later.
 */
import { Cluster, Redis } from 'ioredis';
import type { Endpoint } from '../../adapters/node/endpoint.ts';
import type { RedisBrokerOptions } from '../../adapters/redis/broker.ts';

export type IncrInput = { key: string; then?: 'hang' | number };

/** A Redis connection to what a broker with `target` uses (a Cluster on a cluster). */
export function counterRedis(target: Pick<RedisBrokerOptions, 'redis' | 'cluster'>): Redis | Cluster {
  return target.cluster ? new Cluster(target.cluster) : new Redis(target.redis as string);
}

export function routeIncr(ep: Endpoint<never, never>, redis: Redis | Cluster): void {
  ep.route(
    '/incr' as never,
    (async ({ key, then }: IncrInput) => {
      const n = await redis.incr(key);
      if (then === 'hang') await new Promise(() => {});
      if (typeof then === 'number') await new Promise((r) => setTimeout(r, then));
      return n;
    }) as never,
  );
}
