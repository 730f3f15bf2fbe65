/**
 * Requests between nodes and their replies: a request carries a number and this node's channel
 * (`r:<node>`); the node that serves it publishes [number, status | null, value] there. One waiting
 * entry per request, settled once: by the reply, by 404 when nobody listens on the request's channel,
 * by 408 after its wait, or by 102 when the broker closes. A request that may wait long (a call to a
 * session) is taken: the serving node answers ['w', number, its channel] at once, and this node watches
 * that node (liveness.ts) until the reply; 102 when it dies, or when no node takes the request.
 */
import { randomUUID } from 'node:crypto';
import { Code, DrpcError, codeError, type Status } from '../../src/status.ts';
import { encodePayload } from './payload.ts';

export interface RequestsLink {
  readonly prefix: string;
  publish(what: string, channel: string, message: Buffer): Promise<number>;
  listen(channel: string): Promise<unknown>;
  /** How long a request that must be taken waits for that, in ms. */
  readonly timeoutMs: number;
  /** Calls `gone` when `node` is taken for dead (liveness.ts); returns the unwatch. */
  watch(node: string, gone: () => void): () => void;
}

interface Waiting {
  what: string;
  resolve(value: unknown): void;
  reject(err: DrpcError): void;
  timer?: ReturnType<typeof setTimeout>;
  /** Until the request is taken (requests that must be). */
  untaken?: ReturnType<typeof setTimeout>;
  unwatch?: () => void;
}

/** What asking every node gathered: their answers, and how many nodes failed or did not answer in time. */
export interface Gathered {
  answers: unknown[];
  missing: number;
}

interface Gathering {
  answers: unknown[];
  failed: number;
  /** How many nodes the request reached (unknown until the PUBLISH returns). */
  expected?: number;
  done(): void;
}

export class Requests {
  /** This node's channel: replies come here (and the requests addressed to this node, see relay.ts). */
  readonly address: string;
  #listening?: Promise<unknown>;
  readonly #waiting = new Map<string, Waiting>();
  readonly #gathering = new Map<string, Gathering>();
  #count = 0;

  constructor(private readonly link: RequestsLink) {
    this.address = `${link.prefix}r:${randomUUID()}`;
  }

  /** Resolves once this node listens on its channel (tried again after a failure). */
  listen(): Promise<unknown> {
    return (this.#listening ??= this.link.listen(this.address).catch((err: unknown) => {
      this.#listening = undefined;
      throw err;
    }));
  }

  /**
   * Publishes `message(n)` on `channel` and resolves with its reply: 404 (`missing`) when nobody
   * listens, 408 after `waitMs`; with `taken`, 102 when no node takes it within `timeoutMs` or the
   * node that took it dies.
   */
  async request(
    what: string,
    channel: string,
    waitMs: number,
    missing: string,
    message: (n: string) => unknown[],
    taken = false,
  ): Promise<unknown> {
    const n = `${++this.#count}`;
    const bytes = encodeFor(what, message(n));
    await this.listen();
    const reply = new Promise<unknown>((resolve, reject) => {
      const w: Waiting = { what, resolve, reject };
      if (Number.isFinite(waitMs))
        w.timer = setTimeout(() => this.#settle(n, codeError(Code.HandleTimeout, `${what}: no reply within ${waitMs} ms`)), waitMs);
      this.#waiting.set(n, w);
    });
    // It may settle (closed, timed out) while the PUBLISH below is still on its way, before the caller
    // holds it: handled here so that is no unhandled rejection; the caller still gets it.
    reply.catch(() => {});
    try {
      if (!(await this.link.publish(what, channel, bytes))) this.#settle(n, codeError(Code.NotFound, missing));
      else if (taken) this.#untaken(n);
    } catch (err) {
      this.#settle(n, DrpcError.from(err, Code.BadGateway));
    }
    return reply;
  }

  /**
   * Publishes `message(n)` on a channel every node listens to and gathers their replies: resolves once
   * every node the PUBLISH reached answered, or after `waitMs` with those that did (`missing`: the rest).
   */
  async gather(what: string, channel: string, waitMs: number, message: (n: string) => unknown[]): Promise<Gathered> {
    const n = `${++this.#count}`;
    const bytes = encodeFor(what, message(n));
    await this.listen();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const all = new Promise<void>((done) => {
      this.#gathering.set(n, { answers: [], failed: 0, done });
      timer = setTimeout(done, waitMs);
    });
    const g = this.#gathering.get(n)!;
    try {
      g.expected = await this.link.publish(what, channel, bytes);
      if (g.answers.length + g.failed >= g.expected) g.done();
      await all;
    } finally {
      clearTimeout(timer);
      this.#gathering.delete(n);
    }
    return { answers: g.answers, missing: g.expected - g.answers.length };
  }

  /** Serves request `n` from `replyTo`: its value, or its error status (also when the value cannot travel); `take` says at once that this node took it. */
  respond(replyTo: string, n: string, work: Promise<unknown>, take = false): void {
    if (take) this.link.publish('a take', replyTo, encodePayload(['w', n, this.address])).catch(() => {});
    const send = (status: Status | null, value: unknown) => {
      let reply: Buffer;
      try {
        reply = encodeFor('a reply', [n, status, value]);
      } catch (err) {
        reply = encodePayload([n, DrpcError.from(err).toStatus(), null]);
      }
      this.link.publish('a reply', replyTo, reply).catch(() => {}); // the asking node times out
    };
    work.then(
      (value) => send(null, value),
      (err: unknown) => send(DrpcError.from(err).toStatus(), null),
    );
  }

  /** Node `node` took request `n`: it is watched until the reply comes. */
  taken(n: string, node: string): void {
    const w = this.#waiting.get(n);
    if (!w || w.unwatch) return;
    clearTimeout(w.untaken);
    w.unwatch = this.link.watch(node, () =>
      this.#settle(n, codeError(Code.ConnClosed, `${w.what}: the node holding the session is gone (it stopped telling Redis it is alive)`)),
    );
  }

  /** A reply [n, status | null, value] arrived on this node's channel. */
  settle([n, status, value]: [string, Status | null, unknown]): void {
    const g = this.#gathering.get(n);
    if (g) {
      if (status) g.failed++;
      else g.answers.push(value);
      if (g.expected !== undefined && g.answers.length + g.failed >= g.expected) g.done();
      return;
    }
    const w = this.#waiting.get(n);
    if (!w) return; // timed out already
    if (status) return this.#settle(n, DrpcError.fromStatus(status));
    this.#end(n, w);
    w.resolve(value);
  }

  /** Every request still waiting fails with 102, and every gather ends with what it has (the broker is closing). */
  close(): void {
    for (const g of this.#gathering.values()) g.done(); // with the answers so far
    for (const n of [...this.#waiting.keys()]) this.#settle(n, codeError(Code.ConnClosed, 'the redis broker closed before the reply came'));
  }

  #settle(n: string, err: DrpcError): void {
    const w = this.#waiting.get(n);
    if (!w) return;
    this.#end(n, w);
    w.reject(err);
  }

  /** A request some node listens for must be taken within `timeoutMs` (a message that arrives after its session closed is dropped there). */
  #untaken(n: string): void {
    const w = this.#waiting.get(n);
    if (!w || w.unwatch) return;
    const ms = this.link.timeoutMs;
    const why = `${w.what}: no node took it within ${ms} ms (the session closed, or its node is gone)`;
    w.untaken = setTimeout(() => this.#settle(n, codeError(Code.ConnClosed, why)), ms);
  }

  #end(n: string, w: Waiting): void {
    this.#waiting.delete(n);
    clearTimeout(w.timer);
    clearTimeout(w.untaken);
    w.unwatch?.();
  }
}

/** A payload as it travels to other nodes; one JSON cannot carry is a 400 naming it. */
export function encodeFor(what: string, payload: unknown): Buffer {
  try {
    return encodePayload(payload);
  } catch (err) {
    throw codeError(
      Code.BadMessage,
      `${what}: the payload cannot go through the broker: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
}
