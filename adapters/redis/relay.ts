/**
 * Messages between nodes other than topics: pushes and calls to a session id, published on the
 * session's channel (only the node holding it listens), call replies on the caller's own channel,
 * and broadcasts on one channel every node listens to. Each message is a JSON list (payload.ts):
 *   session `s:<id>`:  ['p', method, payload, meta] | ['c', callId, replyChannel, method, payload, meta, timeout]
 *                      | ['k', status] (close it)
 *   node `r:<node>`:   a reply [callId, status | null, value] | a take ['w', callId, node channel] (the call
 *                      reached its session; the caller watches that node) | a claim ['h', callId, replyChannel, clientId, version]
 *                      | a forwarded reply ['f', clientId, n, [status, meta, bodyCodec, base64 body]]
 *   keyed `k:<key>`:   a request ['q', callId, replyChannel, request] to the node holding the key
 *   inbox `i:<id>`:    any JSON value, in order
 * A client's node is `o:{clientId}` (its node channel): the node it connects to next claims it there.
 *   broadcast `b`:     [origin, method, payload, meta, room]
 *   gather `g`:        ['g', callId, replyChannel, request]: every node answers on replyChannel
 */
import { randomUUID } from 'node:crypto';
import type { ClientRecords, HeldSession, Inbox, RelayedBroadcast, RelayedCall, RelayedPush } from '../node/broker.ts';
import type { CachedReply, ClientHandOff } from '../../src/reply-cache.ts';
import { DrpcError, type Status } from '../../src/status.ts';
import { decodePayload, encodePayload } from './payload.ts';
import { Requests, encodeFor, type Gathered, type RequestsLink } from './requests.ts';

/** What the relay needs from its broker. */
export interface RelayLink extends RequestsLink {
  /** PUBLISH through the command connection (a 502 naming `what` when Redis fails). */
  publish(what: string, channel: string, message: Buffer): Promise<number>;
  /** SUBSCRIBE / UNSUBSCRIBE on the subscriber connection. */
  listen(channel: string): Promise<unknown>;
  unlisten(channel: string): void;
  /**
   * Makes `node` client `id`'s node for `ttlMs`; resolves with the one before (null: none) and the
   * claim's version: one counter per client, so every node sees the claims in one order.
   */
  swapNode(id: string, node: string, ttlMs: number): Promise<{ previous: string | null; version: number }>;
  /** Whether node `node` (its channel) tells Redis it is alive (liveness.ts). */
  alive(node: string): Promise<boolean>;
  /** How long a claim waits for the previous node (and a relayed call for a node to take it), in ms. */
  readonly timeoutMs: number;
  report(err: DrpcError): void;
}

type Meta = Record<string, string>;

export class SessionRelay {
  /** Requests to other nodes, and this node's channel for their replies. */
  readonly #requests: Requests;
  readonly #held = new Map<string, HeldSession>();
  readonly #keys = new Map<string, (request: unknown) => Promise<unknown>>();
  readonly #inboxes = new Map<string, (message: unknown) => void>();
  readonly #fanOut = new Set<(b: RelayedBroadcast) => void>();
  #gatherAnswer?: (request: unknown) => Promise<unknown>;
  #records?: ClientRecords;

  constructor(private readonly link: RelayLink) {
    this.#requests = new Requests(link);
  }

  /** This node's channel (replies and claims come here); also the name of its liveness key. */
  get address(): string {
    return this.#requests.address;
  }

  get #broadcasts(): string {
    return `${this.link.prefix}b`;
  }

  get #gathers(): string {
    return `${this.link.prefix}g`;
  }

  hold(id: string, session: HeldSession): void {
    const channel = this.#session(id);
    this.#held.set(channel, session);
    this.link.listen(channel).catch(() => {}); // a lost subscriber is reported by the broker
  }

  release(id: string): void {
    const channel = this.#session(id);
    if (this.#held.delete(channel)) this.link.unlisten(channel);
  }

  async push(id: string, push: RelayedPush): Promise<boolean> {
    const what = `push to session ${JSON.stringify(id)}`;
    const message = encodeFor(what, ['p', push.serviceMethod, push.payload, push.meta ?? null]);
    return (await this.link.publish(what, this.#session(id), message)) > 0;
  }

  async kick(id: string, status: Status): Promise<boolean> {
    const what = `kick session ${JSON.stringify(id)}`;
    return (await this.link.publish(what, this.#session(id), encodeFor(what, ['k', status]))) > 0;
  }

  call(id: string, call: RelayedCall, waitMs: number): Promise<unknown> {
    const what = `call ${JSON.stringify(call.serviceMethod)} on session ${JSON.stringify(id)}`;
    // JSON has no Infinity: "no timeout" travels as 0, as CallOptions says it.
    const timeout = call.timeout === undefined ? null : Number.isFinite(call.timeout) ? call.timeout : 0;
    const rest = [call.serviceMethod, call.payload, call.meta ?? null, timeout];
    const missing = `no session ${JSON.stringify(id)} on any node`;
    const message = (n: string) => ['c', n, this.#requests.address, ...rest];
    return this.#requests.request(what, this.#session(id), waitMs, missing, message, true);
  }

  serveClients(records: ClientRecords): void {
    this.#records = records;
    this.#requests.listen().catch(() => {}); // claims come to this node's channel
  }

  async claimClient(id: string, ttlMs: number, claimed: (version: number) => void): Promise<ClientHandOff | undefined> {
    const requests = this.#requests;
    await requests.listen(); // forwarded replies come to this node's channel
    const { previous, version } = await this.link.swapNode(id, requests.address, ttlMs);
    claimed(version);
    if (!previous || previous === requests.address) return undefined;
    // A previous node that stopped beating (a machine that died keeps its Redis connections open
    // until TCP gives up, so a PUBLISH still counts it) is not waited for: the client is served now.
    if (!(await this.link.alive(previous).catch(() => true))) return undefined;
    const what = `claim client ${JSON.stringify(id)}`;
    try {
      const h = await requests.request(what, previous, this.link.timeoutMs, 'its previous node is gone', (n) => [
        'h',
        n,
        requests.address,
        id,
        version,
      ]);
      return h ? { ...unpackHandOff(h), from: previous } : undefined;
    } catch {
      return undefined; // the previous node is gone or slow: the client starts afresh here
    }
  }

  async fanOut(b: RelayedBroadcast): Promise<void> {
    const what = `broadcast ${JSON.stringify(b.serviceMethod)}`;
    await this.link.publish(
      what,
      this.#broadcasts,
      encodeFor(what, [b.origin, b.serviceMethod, b.payload, b.meta ?? null, b.room ?? null]),
    );
  }

  onFanOut(deliver: (b: RelayedBroadcast) => void): () => void {
    if (!this.#fanOut.size) this.link.listen(this.#broadcasts).catch(() => {});
    this.#fanOut.add(deliver);
    return () => {
      if (this.#fanOut.delete(deliver) && !this.#fanOut.size) this.link.unlisten(this.#broadcasts);
    };
  }

  gather(request: unknown, waitMs: number): Promise<Gathered> {
    const what = 'ask every node';
    return this.#requests.gather(what, this.#gathers, waitMs, (n) => ['g', n, this.#requests.address, request]);
  }

  async onGather(answer: (request: unknown) => Promise<unknown>): Promise<void> {
    this.#gatherAnswer = answer;
    await this.link.listen(this.#gathers);
  }

  async holdKey(key: string, answer: (request: unknown) => Promise<unknown>): Promise<void> {
    const channel = `${this.link.prefix}k:${key}`;
    this.#keys.set(channel, answer);
    await this.link.listen(channel);
  }

  releaseKey(key: string): void {
    const channel = `${this.link.prefix}k:${key}`;
    if (this.#keys.delete(channel)) this.link.unlisten(channel);
  }

  ask(key: string, request: unknown, waitMs: number): Promise<unknown> {
    const what = `ask the node holding ${JSON.stringify(key)}`;
    const missing = `no node holds ${JSON.stringify(key)}`;
    return this.#requests.request(what, `${this.link.prefix}k:${key}`, waitMs, missing, (n) => ['q', n, this.#requests.address, request]);
  }

  async openInbox(deliver: (message: unknown) => void): Promise<Inbox> {
    const address = `${this.link.prefix}i:${randomUUID()}`;
    this.#inboxes.set(address, deliver);
    try {
      await this.link.listen(address);
    } catch (err) {
      this.#inboxes.delete(address);
      throw err;
    }
    return {
      address,
      close: () => {
        if (this.#inboxes.delete(address)) this.link.unlisten(address);
      },
    };
  }

  async send(address: string, message: unknown): Promise<boolean> {
    return (await this.link.publish(`send to ${address}`, address, encodeFor(`send to ${address}`, message))) > 0;
  }

  /** A message on one of the relay's channels (throws when it cannot be read); false when the channel is not one of them. */
  message(channel: string, message: Buffer): boolean {
    const inbox = this.#inboxes.get(channel);
    const keyed = this.#keys.get(channel);
    const held = this.#held.get(channel);
    if (inbox) inbox(decodePayload(message));
    else if (keyed) this.#answer(keyed, this.#list(message));
    else if (held) this.#toSession(held, this.#list(message));
    else if (channel === this.#requests.address) this.#toNode(this.#list(message));
    else if (channel === this.#broadcasts) this.#broadcast(this.#list(message));
    else if (channel === this.#gathers && this.#gatherAnswer) this.#answer(this.#gatherAnswer, this.#list(message), 'g');
    else return false;
    return true;
  }

  /** Every relayed call still waiting fails with 102 (the broker is closing). */
  close(): void {
    this.#held.clear();
    this.#keys.clear();
    this.#inboxes.clear();
    this.#fanOut.clear();
    this.#gatherAnswer = undefined;
    this.#requests.close();
  }

  #session(id: string): string {
    return `${this.link.prefix}s:${id}`;
  }

  #toSession(held: HeldSession, m: unknown[]): void {
    if (m[0] === 'p' && m.length === 4)
      return held.push({ serviceMethod: m[1] as string, payload: m[2], meta: (m[3] as Meta | null) ?? undefined });
    if (m[0] === 'k' && m.length === 2) return held.kick(m[1] as Status);
    if (m[0] !== 'c' || m.length !== 7) return;
    const [, n, replyTo, serviceMethod, payload, meta, timeout] = m as [
      string,
      string,
      string,
      string,
      unknown,
      Meta | null,
      number | null,
    ];
    const call = held.call({ serviceMethod, payload, meta: meta ?? undefined, timeout: timeout ?? undefined });
    this.#requests.respond(replyTo, n, call, true);
  }

  /** A reply, a take, a claim on one of this node's clients, or a reply forwarded by a client's previous node. */
  #toNode(m: unknown[]): void {
    if (m[0] === 'w' && m.length === 3) return this.#requests.taken(m[1] as string, m[2] as string);
    if (m.length === 3) return this.#requests.settle(m as [string, Status | null, unknown]);
    const records = this.#records;
    if (m[0] === 'f' && m.length === 4) return records?.forwarded(m[1] as string, m[2] as number, unpackReply(m[3] as PackedReply));
    if (m[0] !== 'h' || m.length < 4) return;
    // A claim without a version comes from a node of an older release (see ClientRecords.handOff).
    const [, n, replyTo, id, version] = m as [string, string, string, string, number | undefined];
    const forward = (call: number, reply: CachedReply) =>
      void this.link.publish('a forwarded reply', replyTo, encodePayload(['f', id, call, packReply(reply)])).catch(() => {});
    const packed = Promise.resolve(records?.handOff(id, version, forward)).then(
      (h) => h && { acked: h.acked, done: h.done.map(([k, r]) => [k, packReply(r)]), running: h.running, latest: h.latest },
    );
    this.#requests.respond(
      replyTo,
      n,
      packed.then((p) => p ?? null),
    );
  }

  /** A keyed request (or a gather): its answer (or its error status) goes back to the asking node. */
  #answer(answer: (request: unknown) => Promise<unknown>, m: unknown[], tag = 'q'): void {
    if (m[0] !== tag || m.length !== 4) return;
    const [, n, replyTo, request] = m as [string, string, string, unknown];
    this.#requests.respond(replyTo, n, answer(request));
  }

  #broadcast(m: unknown[]): void {
    if (m.length !== 5) return;
    const [origin, serviceMethod, payload, meta, room] = m as [string, string, unknown, Meta | null, string | null];
    for (const d of this.#fanOut) d({ origin, serviceMethod, payload, meta: meta ?? undefined, room: room ?? undefined });
  }

  /** A relayed message: a JSON list (a malformed one throws; the broker reports it). */
  #list(message: Buffer): unknown[] {
    const m = decodePayload(message);
    if (!Array.isArray(m)) throw new TypeError('not a list');
    return m;
  }
}

type PackedReply = [Status, Meta, number, string];

function packReply(r: CachedReply): PackedReply {
  return [r.status, r.meta, r.bodyCodec, Buffer.from(r.body.buffer, r.body.byteOffset, r.body.length).toString('base64')];
}

function unpackReply([status, meta, bodyCodec, body]: PackedReply): CachedReply {
  return { status, meta, bodyCodec, body: new Uint8Array(Buffer.from(body, 'base64')) };
}

function unpackHandOff(h: unknown): ClientHandOff {
  const { acked, done, running, latest } = h as { acked: number; done: [number, PackedReply][]; running: number[]; latest?: number };
  return { acked, done: done.map(([n, r]) => [n, unpackReply(r)]), running, latest };
}
