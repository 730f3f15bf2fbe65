/**
 * A broker lets endpoints on many nodes act as one (DESIGN.md, scale-out): topics share one log, so
 * offsets, history and resume hold on any node; a push to a session id reaches the node that holds
 * it, and so does a server → client call; a broadcast (to everyone, or to a room) reaches every node's sessions. `redisBroker()` (drpc/redis) is the implementation; without a broker an endpoint keeps
 * everything in its own memory.
 */
import type { CachedReply, ClientHandOff, ReplyStore } from '../../src/reply-cache.ts';
import type { TopicLogFactory } from '../../src/topic-log.ts';
import type { Status } from '../../src/status.ts';

/** A push handed from one node to the node that holds its session. */
export interface RelayedPush {
  serviceMethod: string;
  payload: unknown;
  meta?: Record<string, string>;
}

/** A call to a session that another node holds (a server → client call). */
export interface RelayedCall extends RelayedPush {
  /** The call's timeout in ms, as `CallOptions.timeout` (0 or Infinity: none). */
  timeout?: number;
}

/** What a node gives the broker for each session it holds. */
export interface HeldSession {
  push(push: RelayedPush): void;
  /** Calls the session; resolves with its reply, rejects with its DrpcError. */
  call(call: RelayedCall): Promise<unknown>;
  /** Closes the session at once, telling the peer why (SessionHub.kick). */
  kick(status: Status): void;
}

/** A broadcast handed to every other node, each pushing it to its own sessions (or a room of them). */
export interface RelayedBroadcast extends RelayedPush {
  room?: string;
  /** The endpoint that sent it (it skips its own). */
  origin: string;
}

/** What an endpoint's reply cache gives its broker, so a client's calls run once on whichever node it reaches. */
export interface ClientRecords {
  /**
   * Another node claims client `id` with claim `version`: what this node holds of it (undefined:
   * nothing), once this node's own older claims of the client got theirs; `forward` gets the replies
   * of its calls still running here. No version: an older release's claim, taken as the newest.
   */
  handOff(id: string, version: number | undefined, forward: (n: number, reply: CachedReply) => void): Promise<ClientHandOff | undefined>;
  /** The client's previous node forwarded the reply of a call that was running there. */
  forwarded(id: string, n: number, reply: CachedReply): void;
}

/** Where another node's messages arrive (see Broker.openInbox). */
export interface Inbox {
  readonly address: string;
  close(): void;
}

export interface Broker {
  /** Makes each topic's shared log: offsets given once for all nodes, messages fanned out to every node. */
  readonly logs: TopicLogFactory;
  /** This node holds session `id`: pushes and calls other nodes send to it arrive at `session`. */
  hold(id: string, session: HeldSession): void;
  /** This node no longer holds session `id`. */
  release(id: string): void;
  /** Hands a push to the node that holds session `id`; resolves false when no node holds it. */
  relay(id: string, push: RelayedPush): Promise<boolean>;
  /** Closes session `id` on the node that holds it; resolves false when no node holds it. */
  kick(id: string, status: Status): Promise<boolean>;
  /**
   * Calls session `id` on the node that holds it and resolves with the reply (rejects with the
   * session's DrpcError); 404 when no node holds it, 408 when no answer comes within `waitMs`.
   */
  relayCall(id: string, call: RelayedCall, waitMs: number): Promise<unknown>;
  /** Answers other nodes' claims on the clients this node served. */
  serveClients(records: ClientRecords): void;
  /** Where every node also records its clients' calls, so another node can answer them after it crashed (redisBroker's `keepReplies`). */
  readonly replies?: ReplyStore;
  /** Calls `gone` once, when the node at `address` (a hand-off's `from`) is taken for dead; returns the unwatch. */
  watchNode?(address: string, gone: () => void): () => void;
  /**
   * Client `id` connected here: this node becomes its node (for `ttlMs`), and takes what its previous
   * node held; undefined when it was here before, is new, or its previous node did not answer in time.
   * `claimed` gets the claim's version as soon as it is known (before the previous node answers).
   */
  claimClient(id: string, ttlMs: number, claimed: (version: number) => void): Promise<ClientHandOff | undefined>;
  /** This node answers the requests other nodes send for `key` (e.g. an HTTP session it holds); resolves once they can reach it. */
  holdKey(key: string, answer: (request: unknown) => Promise<unknown>): Promise<void>;
  releaseKey(key: string): void;
  /** Sends `request` to the node holding `key`; resolves with its answer; 404 when no node holds it, 408 after `waitMs`. */
  ask(key: string, request: unknown, waitMs: number): Promise<unknown>;
  /** Opens an inbox other nodes can `send` to (its `address`), in order; `close()` when done. */
  openInbox(deliver: (message: unknown) => void): Promise<Inbox>;
  /** Sends a message to an inbox another node opened; false when nobody listens there any more. */
  send(address: string, message: unknown): Promise<boolean>;
  /** Hands a broadcast to every node. */
  fanOut(broadcast: RelayedBroadcast): Promise<void>;
  /** Broadcasts from every node (its own included) arrive at `deliver`; returns the unsubscribe. */
  onFanOut(deliver: (broadcast: RelayedBroadcast) => void): () => void;
  /** This node answers every node's `gather` with `answer` (its error status counts as no answer); resolves once they can reach it. */
  onGather(answer: (request: unknown) => Promise<unknown>): Promise<void>;
  /**
   * Asks every node (this one included) and resolves with their answers once all the nodes the
   * request reached answered, or after `waitMs` with those that did; `missing` counts the others.
   */
  gather(request: unknown, waitMs: number): Promise<{ answers: unknown[]; missing: number }>;
  /** Closes the broker's connections (after the endpoint using it closed), serving other nodes for `lingerMs` first. */
  close(options?: { lingerMs?: number }): Promise<void>;
}
