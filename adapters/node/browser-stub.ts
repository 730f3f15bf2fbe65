/**
 * What `drpc/node` resolves to under the `browser` export condition. The endpoint and TCP need Node's
 * http, net and ws, so every export throws a clear error when used, never a polyfill that half
 * works. Importing it is harmless: isomorphic code may import `drpc/node` and use it on servers only.
 * Keep the names in step with ./index.ts (a unit test compares them).
 */
import { Code, DrpcError } from '../../src/status.ts';

function nodeOnly(what: string): never {
  throw new DrpcError(
    Code.InvalidOp,
    `drpc/node is Node only: ${what} needs Node's http, net and ws modules; a browser connects to an endpoint with connect(url) from 'drpc'`,
  );
}

const nodeOnlyClass = (name: string) =>
  class {
    constructor() {
      nodeOnly(`new ${name}()`);
    }
  };

export function createEndpoint(): never {
  return nodeOnly('createEndpoint()');
}

export function dialTcp(): never {
  return nodeOnly('dialTcp()');
}

export function nodeFetch(): never {
  return nodeOnly('nodeFetch()');
}

export function faultProxy(): never {
  return nodeOnly('faultProxy()');
}

export const Endpoint = nodeOnlyClass('Endpoint');
export const SessionHub = nodeOnlyClass('SessionHub');
export const NodeWebSocketTransport = nodeOnlyClass('NodeWebSocketTransport');
export const NodeTcpTransport = nodeOnlyClass('NodeTcpTransport');
export const Rooms = nodeOnlyClass('Rooms');
