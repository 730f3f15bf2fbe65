/**
 * An endpoint's side of its broker: it holds the ids of this node's sessions (so the pushes, calls
 * and kicks other nodes address to them arrive), relays those to sessions it does not hold, sends and
 * takes broadcasts to every node, and hands clients' reply-cache records between nodes (claim). Topics
 * use the broker's logs directly (src/topics.ts); HTTP sessions its keyed requests (http-remote.ts).
 */
import { randomUUID } from 'node:crypto';
import type { CallOptions, PushOptions } from '../../src/session-types.ts';
import type { Session } from '../../src/session.ts';
import { Code, DrpcError, badMessage, codeText } from '../../src/status.ts';
import type { Broker, RelayedBroadcast } from './broker.ts';
import type { Clock } from '../../src/clock.ts';
import type { ReplyCache } from '../../src/reply-cache.ts';
import { ClientClaims } from './client-claims.ts';
import {
  answerPresence,
  type Presence,
  type PresenceOptions,
  type PresenceRequest,
  type PresenceSources,
  type PresentSession,
} from './presence.ts';

export interface LinkOwner extends PresenceSources {
  readonly clock: Clock;
  /** The endpoint's reply cache: with one, a client's calls run once on whichever node it reaches. */
  readonly replyCache?: ReplyCache;
  /** Pushes a broadcast from another node to this node's sessions (everyone, or a room). */
  broadcastHere(b: RelayedBroadcast): void;
  report(err: DrpcError, session?: Session): void;
}

/** Brokers an open endpoint uses. */
const inUse = new WeakSet<Broker>();

export class BrokerLink {
  /** This endpoint, among every node's: it skips its own broadcasts when they come back. */
  readonly origin = randomUUID();
  readonly #stop: () => void;
  /** Clients claimed from other nodes and handed to them (with a reply cache). */
  readonly #claims?: ClientClaims;
  /** Resolves once this node answers other nodes' presence requests (and its own). */
  readonly #answering: Promise<void>;

  constructor(
    readonly broker: Broker,
    private readonly owner: LinkOwner,
  ) {
    // A broker answers for one endpoint (its sessions, its reply cache, its presence): two endpoints on
    // one broker would take each other's place there. Refused with a 400 instead.
    if (inUse.has(broker)) throw badMessage('this broker already serves another endpoint: give each endpoint its own redisBroker()');
    inUse.add(broker);
    this.#stop = broker.onFanOut((b) => {
      if (b.origin !== this.origin) owner.broadcastHere(b);
    });
    this.#answering = broker.onGather(async (request) => answerPresence(request, owner)).catch(() => {});
    const cache = owner.replyCache;
    if (cache) {
      const claims = (this.#claims = new ClientClaims(broker, cache, owner.clock));
      broker.serveClients({
        handOff: (id, version, forward) => claims.handOff(id, version, forward),
        forwarded: (id, n, reply) => cache.peek(id)?.finish(n, reply, false), // the previous node recorded it
      });
    }
  }

  /** Client `id` connected to this node: takes what its previous node held of it (see ClientClaims); resolves with the claim's version. */
  claim(id: string): Promise<number> {
    return this.#claims?.claim(id) ?? Promise.resolve(0);
  }

  /** Takes the pushes and calls other nodes send to session `id` (this node holds it). */
  hold(id: string): void {
    const sessions = this.owner.sessions;
    this.broker.hold(id, {
      push: (p) => {
        const s = sessions.get(id);
        s?.push(p.serviceMethod, p.payload, { meta: p.meta }).catch((err: unknown) => this.owner.report(DrpcError.from(err), s));
      },
      kick: (status) => void sessions.kick(id, status),
      call: async (c) => {
        const s = sessions.get(id);
        if (!s) throw new DrpcError(Code.NotFound, codeText(Code.NotFound), `no session ${JSON.stringify(id)} on any node`);
        return s.call(c.serviceMethod, c.payload, { timeout: c.timeout, meta: c.meta });
      },
    });
  }

  release(id: string): void {
    this.broker.release(id);
  }

  /** A push to a session another node holds; 404 when no node holds it. */
  async push(id: string, serviceMethod: string, payload: unknown, options?: PushOptions): Promise<void> {
    if (!(await this.broker.relay(id, { serviceMethod, payload, meta: options?.meta })))
      throw new DrpcError(Code.NotFound, codeText(Code.NotFound), `no session ${JSON.stringify(id)} on any node`);
  }

  /**
   * A server → client call to a session another node holds; 404 when no node holds it. The broker
   * waits the call's timeout (or the endpoint's) and 2 s more for the reply; an abort settles it here
   * with 1499 (the call on the other node runs on).
   */
  call(id: string, serviceMethod: string, payload: unknown, options: CallOptions, defaultTimeout: number): Promise<unknown> {
    const timeout = options.timeout ?? defaultTimeout;
    const waitMs = timeout > 0 && Number.isFinite(timeout) ? timeout + 2000 : Infinity;
    const reply = this.broker.relayCall(id, { serviceMethod, payload, meta: options.meta, timeout }, waitMs);
    const signal = options.signal;
    if (!signal) return reply;
    return new Promise((resolve, reject) => {
      const abort = () => reject(new DrpcError(Code.Canceled, codeText(Code.Canceled), `call ${JSON.stringify(serviceMethod)} aborted`));
      if (signal.aborted) return abort();
      signal.addEventListener('abort', abort, { once: true });
      reply.then(resolve, reject).finally(() => signal.removeEventListener('abort', abort));
    });
  }

  /** Sends a broadcast to every other node; a failure is reported (this node's part went out already). */
  fanOut(serviceMethod: string, payload: unknown, options: PushOptions & { room?: string }): void {
    const b = { origin: this.origin, serviceMethod, payload, meta: options.meta, room: options.room };
    this.broker.fanOut(b).catch((err: unknown) => this.owner.report(DrpcError.from(err, Code.BadGateway)));
  }

  /** The sessions of every node (in `room`, subscribed to `topic`, when given, with their `fields`); `missing` counts the nodes that did not answer within `waitMs`. */
  async presence({ room, topic, fields }: PresenceOptions, waitMs: number): Promise<Presence> {
    await this.#answering; // this node's own sessions are in the answers
    // Without a topic, the request a node from before topics understands too.
    const request: PresenceRequest = ['presence', room ?? null, fields ?? null];
    if (topic !== undefined) request.push(topic);
    const { answers, missing } = await this.broker.gather(request, waitMs);
    return { sessions: (answers as PresentSession[][]).flat(), missing };
  }

  close(): void {
    inUse.delete(this.broker);
    this.#stop();
    this.#claims?.close();
  }
}
