/** The options and events of an Endpoint (kept apart from the accepting logic). */
import type { IncomingMessage } from 'node:http';
import type { AuthChecker } from '../../src/auth.ts';
import type { SlowConsumerOptions } from '../../src/backlog.ts';
import type { AnyContract, Untyped } from '../../src/contract.ts';
import type { ReplyCacheOptions } from '../../src/reply-cache.ts';
import type { Session } from '../../src/session.ts';
import type { PeerOptions } from '../../src/session-types.ts';
import type { DrpcError } from '../../src/status.ts';

export interface UpgradeInfo {
  request: IncomingMessage;
  url: URL;
}

export interface EndpointOptions<C extends AnyContract = Untyped> extends PeerOptions {
  /** Typed contract: routes are typed from it and inputs validated (400 naming the failing paths). */
  contract?: C;
  /** Also validate handler outputs against the contract (a bad output becomes 500). Default false. */
  validateOutput?: boolean;
  /** Encoding until a peer's first frame says otherwise: binary = RAW, text = JSON sub-protocol. Default 'raw'. */
  proto?: 'raw' | 'json';
  /** AUTH_CALL checker, run first on every connection; its return value is the AUTH_REPLY body. Default: no auth. */
  auth?: AuthChecker;
  /** How long a new connection has to send its AUTH_CALL, in ms. Default 10000. */
  authTimeout?: number;
  /** Handshake-time check of the upgrade request (e.g. a token in the query); refuse by throwing a DrpcError. Default: accept. */
  verifyUpgrade?: (info: UpgradeInfo) => unknown;
  /** Allowed Origin header values (exact match); absent Origin (non-browser clients) is allowed. Default: any origin. */
  origins?: string[];
  /** Bounds for subscribers that stop reading (topic messages wait, then the topic's slowPolicy applies), or false. Default { highWaterBytes: 1 MiB, maxQueued: 1000, maxQueuedBytes: 8 MiB }. */
  slowConsumers?: SlowConsumerOptions | false;
  /** Reply cache for calls that survive reconnects (meta `_i`), or false. Default { maxEntries: 10000, maxAgeMs: 60000 }. */
  replyCache?: ReplyCacheOptions | false;
  /** Most open connections; more are refused with HTTP 503. Default 10000. */
  maxConnections?: number;
  /** Most inbound CALLs handled at once per session; more get REPLY 500. Default 1024. */
  maxConcurrentCalls?: number;
  /** Errors nobody awaits (push handler failures, bad frames …). Default: console.warn. */
  onError?: (err: DrpcError, session?: Session) => void;
}

export interface EndpointEvents {
  /** A session finished its handshake and is open. */
  session(session: Session): void;
}
