/**
 * How a client opens its connection. The core dials WebSocket only; a fallback such as `http` from
 * `drpc/http` brings its own Dialing (dialer.ts: the order of the `transports` option, what worked,
 * the background WebSocket probe), so that an app pays for that only when it imports a fallback.
 */
import type { Clock } from './clock.ts';
import { DrpcError, Code } from './status.ts';
import type { Transport } from './transport/transport.ts';
import type { FetchLike } from './transport/node-fetch.ts';
import { openWebSocket, type CloseDetails, type WebSocketConstructor } from './transport/websocket.ts';

/** 'websocket', or the `name` of a fallback transport ('http'). */
export type TransportName = string;
export type DialedTransport = Transport & { readonly closeDetails?: CloseDetails };

/** A transport a client can dial besides the built-in WebSocket: `http` from `drpc/http`. */
export interface TransportOpener {
  readonly name: string;
  open(url: string, options: DialOptions): Promise<DialedTransport>;
  /** The Dialing of a `transports` list that holds this opener. */
  dialing(options: DialOptions): Dialing;
}

/** One entry of the `transports` option. */
export type TransportChoice = 'websocket' | TransportOpener;

export interface DialOptions {
  /** The client's URL: what worked is remembered per URL. */
  url: string;
  transports: readonly TransportChoice[];
  WebSocket?: WebSocketConstructor;
  fetch?: FetchLike;
  headers?: Record<string, string>;
  connectTimeout?: number;
  /** On a fallback, probe WebSocket this often (ms); 0 = never. */
  upgradeInterval?: number;
  clock: Clock;
}

export interface Dialing {
  /** The transport of the last successful open. */
  readonly current?: TransportName;
  open(url: string): Promise<DialedTransport>;
  /**
   * While the session runs on a fallback and WebSocket is allowed: probes WebSocket in the background
   * while `wanted()` holds; when one opens, it waits for the next `open()` and `opened()` is called.
   * Returns what stops the probing. Absent: the client never moves.
   */
  upgrade?(url: () => Promise<string>, wanted: () => boolean, opened: () => void): () => void;
  /** A WebSocket the probe opened is waiting for the next `open()`. */
  readonly waiting?: boolean;
  /** Closes a waiting WebSocket (the client closed). */
  drop?(): void;
}

/** The Dialing of a `transports` list: WebSocket alone, or the fallback's own. */
export function dialingFor(o: DialOptions): Dialing {
  // A name other than 'websocket' means a fallback that was not imported.
  for (const t of o.transports)
    if (t !== 'websocket' && typeof t?.dialing !== 'function')
      throw new DrpcError(
        Code.InvalidOp,
        `transports: ${JSON.stringify(t)} is not a transport`,
        "use 'websocket' or an imported one (http from 'drpc/http')",
      );
  if (o.transports.length === 0) throw new DrpcError(Code.InvalidOp, 'transports: the list is empty');
  const fallback = o.transports.find((t) => t !== 'websocket');
  return fallback ? fallback.dialing(o) : { current: 'websocket', open: (url) => openWebSocket(url, o) };
}
