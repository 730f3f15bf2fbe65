/** `ep.stats()`: a snapshot of what an endpoint holds now, for a health check or a metrics scrape. */
import type { Backlogs } from '../../src/backlog.ts';
import type { ReplyCache } from '../../src/reply-cache.ts';
import type { TopicHub } from '../../src/topic-hub.ts';
import type { SessionHub } from './hub.ts';

/** A snapshot of what an endpoint holds now (`ep.stats()`). */
export interface EndpointStats {
  /** Open connections, those still in their handshake too (what `maxConnections` counts). */
  connections: number;
  /** Sessions in the hub (open, past auth). */
  sessions: number;
  /** CALL and PUSH handlers running now, on every session. */
  runningHandlers: number;
  /** Calls this endpoint made to its clients (server → client) still waiting for a reply. */
  pendingCalls: number;
  /** Topics on this node (a family's made ones too). */
  topics: number;
  /** Subscriptions of this node's sessions to them. */
  subscriptions: number;
  /**
   * Slow consumers: sessions whose topic messages wait now and the bytes waiting; since the start, the
   * messages dropped by `drop-oldest` or `conflate` and the sessions closed with 1503.
   */
  slowConsumers: { sessions: number; bytes: number; dropped: number; closed: number };
  /** The reply cache of durable calls: clients with a record and the reply bytes held; undefined when off. */
  replyCache: { clients: number; bytes: number } | undefined;
}

/** Walks the sessions once; the rest are counts kept as they change. */
export function endpointStats(
  connections: number,
  sessions: SessionHub,
  topics: TopicHub<number | Promise<number>>,
  backlogs: Backlogs | undefined,
  cache: ReplyCache | undefined,
): EndpointStats {
  let runningHandlers = 0;
  let pendingCalls = 0;
  sessions.forEach((s) => {
    runningHandlers += s.runningHandlers;
    pendingCalls += s.pendingCalls;
  });
  return {
    connections,
    sessions: sessions.count,
    runningHandlers,
    pendingCalls,
    ...topics.counts,
    slowConsumers: {
      ...(backlogs?.waitingNow ?? { sessions: 0, bytes: 0 }),
      dropped: backlogs?.dropped ?? 0,
      closed: backlogs?.closed ?? 0,
    },
    replyCache: cache && { clients: cache.clients, bytes: cache.bytes },
  };
}
