/** drpc/redis: the Redis broker, so endpoints on many nodes share topics and session pushes. Node only. */
export { redisBroker, RedisBroker, type RedisBrokerOptions } from './broker.ts';
export type { Broker, RelayedPush } from '../node/broker.ts';
