/** The options, states and events of a Client (kept apart from the connection logic). */
import type { BackoffOptions } from './backoff.ts';
import type { AnyContract, Untyped } from './contract.ts';
import type { Proto } from './proto/proto.ts';
import type { PeerOptions } from './session-types.ts';
import type { Status } from './status.ts';
import type { Gap } from './topics.ts';
import type { WebSocketConstructor } from './transport/websocket.ts';
import type { FetchLike } from './transport/node-fetch.ts';
import type { TransportChoice } from './dialing.ts';
import type { Serve } from './inbound.ts';

export type ClientState = 'connecting' | 'open' | 'reconnecting' | 'closed';

export interface StateInfo {
  state: ClientState;
  /** Why the client entered this state. */
  reason: string;
  /** The drpc status behind it, when there is one (e.g. 401 from auth, a kick's status). */
  status?: Status;
  /** Reconnect attempt number (reconnecting), 0 otherwise. */
  attempt: number;
}

export interface ClientEvents {
  state(info: StateInfo): void;
  connecting(info: StateInfo): void;
  open(info: StateInfo): void;
  reconnecting(info: StateInfo): void;
  closed(info: StateInfo): void;
  /** Topic messages that will never arrive (history too short or reset); never a silent hole. */
  gap(gap: Gap & { topic: string }): void;
}

export interface ConnectOptions<C extends AnyContract = Untyped> extends PeerOptions {
  /** Typed contract: `call`, `onPush` and `route` are typed from it; client routes validate their input. */
  contract?: C;
  /** Also validate replies and pushes against the contract (opt-in; a bad reply fails with 400, a bad push is reported and dropped). Default false. */
  validate?: boolean;
  /** Frame format: 'raw' (binary frames, carries status; default) or 'json' (drpc's JSON sub-protocol), or a Proto. */
  proto?: 'raw' | 'json' | Proto;
  /** Query parameters added to the URL on every dial (e.g. a token for handshake-time checks); a function is re-run each dial. */
  query?: Record<string, string> | (() => Record<string, string> | Promise<Record<string, string>>);
  /** AUTH_CALL payload, re-run on every (re)connect. A rejection (401) stops reconnecting until `reconnect()`. Default: no auth. */
  auth?: () => unknown;
  /** Reconnect backoff (full jitter), or false to never redial. Default { min: 500, max: 30000, attempts: Infinity }. */
  reconnect?: BackoffOptions | false;
  /** Heartbeat rate in seconds (min 3), or false. Default { rate: 15 }. */
  heartbeat?: { rate: number } | false;
  /** Calls and pushes held while disconnected (0 = fail fast with 102). Default 1024. */
  offlineQueue?: number;
  /** Calls awaiting a reply at once; more fail with 104 Write Failed. Default 65536. */
  maxPendingCalls?: number;
  /**
   * Calls survive reconnects (see CallOptions.durable): re-sent with the same identity for up to
   * `resumeWindow` ms after the drop, answered once by the endpoint's reply cache. Only against an
   * endpoint that has shown it keeps that cache; with a plain drpc peer such a call settles with 102.
   * Default true; false (or `durable: false` per call) fails fast with 102 instead.
   */
  durableCalls?: boolean;
  /** How long a durable call may wait for the connection to come back, in ms (match the endpoint's replyCache.maxAgeMs). Default 60000. */
  resumeWindow?: number;
  /**
   * Transports to dial, in order. `['websocket', http]`, with `http` from `drpc/http` (POSTs up, a
   * streamed response down), falls back to HTTP when WebSocket cannot open; what worked is
   * remembered for the process (page) lifetime. Default ['websocket'] (no fallback: import it).
   */
  transports?: TransportChoice[];
  /** On HTTP, try WebSocket again this often, in ms, and move the session over when it opens; 0 = stay. Default 30000. */
  upgradeInterval?: number;
  /** fetch implementation for the HTTP transport. Default: the global one; in Node, one over node:http (4× less CPU per request than Node's fetch). */
  fetch?: FetchLike;
  /** Headers on every HTTP-transport request (e.g. Authorization; browsers cannot set them on a WebSocket). Default none. */
  headers?: Record<string, string>;
  /** Dial timeout in ms (per transport tried). Default 10000. */
  connectTimeout?: number;
  /**
   * Serving calls from the server: `serveCalls` from drpc makes `client.route` work (with
   * deadlines, cancel and plugins' read hooks). Default: pushes only (onPush, subscribe); a CALL from
   * the server is answered 404. An app that serves no calls does not pay for it.
   */
  serve?: Serve;
  /** WebSocket implementation (default: the global one, else `ws`). */
  WebSocket?: WebSocketConstructor;
}
