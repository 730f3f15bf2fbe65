/** The options, events and results of a Session (kept apart from the engine itself). */
import type { Clock } from './clock.ts';
import type { CodecRegistry } from './codec/codec.ts';
import type { Plugin } from './hooks.ts';
import type { Proto } from './proto/proto.ts';
import type { Router } from './router.ts';
import type { Serve } from './inbound.ts';
import type { Session } from './session.ts';
import type { DrpcError, Status } from './status.ts';
import type { FilterPipes } from './filter/filter.ts';
import type { ClientReplies } from './reply-cache.ts';
import type { Meta } from './wire-text.ts';

/** Whoever keeps sessions (an endpoint's hub): told directly, so a session needs no listener closures. */
export interface SessionOwner {
  sessionClosed(session: Session, info: { reason: string; status?: Status }): void;
  sessionRenamed(session: Session, id: string, previous: string): void;
}

export interface SessionOptions {
  /** Answers re-sent calls (same client, same seq) from here instead of running them twice; a function is called on first use. Endpoints give each client's sessions one. Default none. */
  replyCache?: ClientReplies | (() => ClientReplies);
  /** Told when the session closes or is renamed (endpoints use it; users listen with `on`). Default none. */
  owner?: SessionOwner;
  /** Frame format. Default: drpc RAW. */
  proto?: Proto;
  /** Body codecs known to this session. Default: the shared registry (json, plain, protobuf, bytes). */
  codecs?: CodecRegistry;
  /** Codec for outbound bodies (id or name). Default 'json'. */
  codec?: number | string;
  /** Routes served on this session. Default: a new, empty router. */
  router?: Router;
  /**
   * How inbound CALLs and PUSHes are served. Default `servePushes`: PUSHes go to their routes, CALLs
   * get 404. `serveCalls` (from drpc) serves CALL routes too, with deadlines, cancel, the
   * concurrency cap and plugins' read hooks; endpoints always use it.
   */
  serve?: Serve;
  /** Hooks along the message life, in order. Default none. */
  plugins?: Plugin[];
  /** Timers and wall time. Default: the system clock. */
  clock?: Clock;
  /** Default timeout of outbound calls in ms; 0 or Infinity = none (drpc has none). Default 30000. */
  timeout?: number;
  /** Most outbound calls waiting for a reply at once; more fail with 104. Default 65536. */
  maxPendingCalls?: number;
  /** Where seqs come from. A client shares one across its sessions, so that a seq never repeats across reconnects (its durable calls are known by their seq). Default: a counter per session. */
  seqs?: { next(): number };
  /** Most inbound CALLs handled at once; more get an error REPLY 500. Default 1024. */
  maxConcurrentCalls?: number;
  /** How long an active close waits for running handlers and pending calls, in ms. Default 5000. */
  closeTimeout?: number;
  /** Session id. Default: the transport's remote address. */
  id?: string;
  /** Start in drpc's "preparing" state (handshake: only earlySend / earlyReceive) until `start()`. Default false. */
  preparing?: boolean;
  /**
   * With `preparing`: leave the transport unread until `start()` (an endpoint first makes the session
   * known, so the peer's first calls never run before it is). Default false.
   */
  held?: boolean;
  /** Errors nobody else hears about: push handler failures, unroutable pushes, hook errors. Default: console.warn. */
  onError?: (err: DrpcError, session: Session) => void;
}

export interface CallOptions {
  /** Timeout in ms for this call; 0 or Infinity = none; NaN or negative fails the call with 400. Default: the session's `timeout`. */
  timeout?: number;
  /**
   * Survive a dropped connection (Client only): the call keeps its seq and is re-sent under it after
   * the reconnect; a peer with a reply cache (our endpoint) answers the copy without running the
   * handler twice. Re-sent only to a peer whose HELLO said it has that cache. false = fail fast with 102.
   * Default: the client's `durableCalls` (true).
   */
  durable?: boolean;
  /** Send `timeout` to the peer as the call's deadline (meta `_d`), so its handler can stop in time. Default: true when `timeout` is given. */
  sendDeadline?: boolean;
  /** Aborting settles the call with code 1499 Canceled (and tells the peer, whose handler's signal fires). */
  signal?: AbortSignal;
  meta?: Meta;
  /** Codec of the request body (id or name). Default: the session's codec. */
  codec?: number | string;
  /** Ask the peer to reply in this codec (drpc's X-Accept-Body-Codec). */
  acceptCodec?: number | string;
  /** Transfer filter ids, ids[0] outermost, e.g. `[gzip.id]`. The REPLY uses the same pipe. */
  pipe?: number[];
  /** The seq to send this call under. For durable calls re-sent after a reconnect (they keep their first); not for general use. Default: the next one. */
  seq?: number;
}

export type PushOptions = Pick<CallOptions, 'meta' | 'codec' | 'pipe'>;

/** A REPLY in full: the decoded value plus what drpc's CallCmd exposes. */
export interface Reply<T = unknown> {
  value: T;
  meta: Meta;
  bodyCodec: number;
  status: Status;
}

export type SessionState = 'preparing' | 'open' | 'closing' | 'closed';

export interface SessionEvents {
  /** The session closed; `reason` says why; `status` is set when a drpc status caused it. */
  close(info: { reason: string; status?: Status }): void;
  /** `setId` changed the id (hubs re-key on this). */
  id(id: string, previous: string): void;
}

/** What a client and an endpoint pass down to their sessions and protos. */
export interface PeerOptions extends Pick<SessionOptions, 'codec' | 'codecs' | 'plugins' | 'clock' | 'timeout'> {
  /** Largest inbound frame in bytes (also bounds what gzip may inflate to). Default 16 MiB. */
  maxFrameSize?: number;
  /** Transfer filters the protos may apply. Default: none in a client (import `createFilters()` for gzip and md5); gzip and md5 in the Node endpoint. */
  filters?: FilterPipes;
}
