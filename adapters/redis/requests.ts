/**
 * Requests between nodes and their replies: a request carries a number and this node's channel
 * (`r:<node>`); the node that serves it publishes [number, status | null, value] there. One waiting
 * entry per request, settled once: by the reply, by 404 when nobody listens on the request's channel,
 * by 408 after its wait, or by 102 when the broker closes.
 */
import { randomUUID } from 'node:crypto';
import { Code, DrpcError, codeError, type Status } from '../../src/status.ts';
import { encodePayload } from './payload.ts';

export interface RequestsLink {
  readonly prefix: string;
  publish(what: string, channel: string, message: Buffer): Promise<number>;
  listen(channel: string): Promise<unknown>;
}

interface Waiting {
  resolve(value: unknown): void;
  reject(err: DrpcError): void;
  timer?: ReturnType<typeof setTimeout>;
}

export class Requests {
  /** This node's channel: replies come here (and the requests addressed to this node, see relay.ts). */
  readonly address: string;
  #listening?: Promise<unknown>;
  readonly #waiting = new Map<string, Waiting>();
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

  /** Publishes `message(n)` on `channel` and resolves with its reply: 404 (`missing`) when nobody listens, 408 after `waitMs`. */
  async request(what: string, channel: string, waitMs: number, missing: string, message: (n: string) => unknown[]): Promise<unknown> {
    const n = `${++this.#count}`;
    const bytes = encodeFor(what, message(n));
    await this.listen();
    const reply = new Promise<unknown>((resolve, reject) => {
      const w: Waiting = { resolve, reject };
      if (Number.isFinite(waitMs))
        w.timer = setTimeout(() => this.#settle(n, codeError(Code.HandleTimeout, `${what}: no reply within ${waitMs} ms`)), waitMs);
      this.#waiting.set(n, w);
    });
    try {
      if (!(await this.link.publish(what, channel, bytes))) this.#settle(n, codeError(Code.NotFound, missing));
    } catch (err) {
      this.#settle(n, DrpcError.from(err, Code.BadGateway));
    }
    return reply;
  }

  /** Serves request `n` from `replyTo`: its value, or its error status (also when the value cannot travel). */
  respond(replyTo: string, n: string, work: Promise<unknown>): void {
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

  /** A reply [n, status | null, value] arrived on this node's channel. */
  settle([n, status, value]: [string, Status | null, unknown]): void {
    const w = this.#waiting.get(n);
    if (!w) return; // timed out already
    if (status) return this.#settle(n, DrpcError.fromStatus(status));
    this.#waiting.delete(n);
    clearTimeout(w.timer);
    w.resolve(value);
  }

  /** Every request still waiting fails with 102 (the broker is closing). */
  close(): void {
    for (const n of [...this.#waiting.keys()]) this.#settle(n, codeError(Code.ConnClosed, 'the redis broker closed before the reply came'));
  }

  #settle(n: string, err: DrpcError): void {
    const w = this.#waiting.get(n);
    if (!w) return;
    this.#waiting.delete(n);
    clearTimeout(w.timer);
    w.reject(err);
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
