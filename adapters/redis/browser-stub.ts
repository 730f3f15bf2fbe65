/**
 * What `drpc/redis` resolves to under the `browser` export condition: the broker needs Node's
 * sockets and ioredis, so it throws a clear error when used, never a polyfill that half works.
 * Keep the names in step with ./index.ts (a unit test compares them).
 */
import { Code, DrpcError } from '../../src/status.ts';

function nodeOnly(what: string): never {
  throw new DrpcError(Code.InvalidOp, `drpc/redis is Node only: ${what} runs beside createEndpoint() on a server, not in a browser`);
}

export function redisBroker(): never {
  return nodeOnly('redisBroker()');
}

export const RedisBroker = class {
  constructor() {
    nodeOnly('new RedisBroker()');
  }
};
