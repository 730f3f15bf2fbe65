/**
 * Calls that outlive their connection (the client side of docs/protocol.md, "Calls that survive
 * reconnects"): each durable call keeps its seq; if the connection drops while it is in flight (102)
 * it waits for the reconnect and goes out again under the same seq, until its own timeout or the
 * resume window runs out, and the endpoint's reply cache makes the effect happen once. Only re-sent
 * once the endpoint has said it keeps that cache (HELLO): a plain drpc peer would run it twice.
 */
import { CallNumbers } from './call-numbers.ts';
import { awaitAtMost, type Clock } from './clock.ts';
import { CALL_ACK_META } from './extensions.ts';
import type { Session } from './session.ts';
import type { CallOptions } from './session-types.ts';
import { Code, DrpcError, codeText } from './status.ts';

/** How far the acknowledgement of settled durable calls may lag before a call carries it (meta `_k`). */
const ACK_EVERY = 32;

/** What durable calls need of their client. */
export interface DurableHost {
  readonly clock: Clock;
  /** The open session, if any. */
  current(): Session | undefined;
  /** Whether a call lost with `err` may go out again (the client is not closed, nor refused by the endpoint …). */
  resendable(err: DrpcError): boolean;
  readonly timeout: number;
  readonly resumeWindow: number;
  /** Tells the endpoint, on the next connection if none is open, that call `n` was canceled. */
  cancel(n: number): void;
}

export class DurableCalls {
  /** The client's seqs, shared by all its sessions (so a seq never repeats across reconnects). */
  readonly seqs = new CallNumbers();
  /** Whether the endpoint keeps a reply cache (its HELLO says): only then is re-sending safe; undefined: not said. */
  peerCaches: boolean | undefined;
  #ackSent = 0;
  readonly #host: DurableHost;

  constructor(host: DurableHost) {
    this.#host = host;
  }

  call<R>(serviceMethod: string, options: CallOptions, send: (o: CallOptions) => Promise<R>): Promise<R> {
    const host = this.#host;
    const seqs = this.seqs;
    const n = seqs.take(); // its seq: the same on every send
    const start = host.clock.now();
    const done = (r: R): R => (seqs.settle(n), r);
    const fail = (e: DrpcError): never => {
      seqs.settle(n);
      throw e;
    };
    const retry = async (err: DrpcError, sentOn: Session | undefined): Promise<R> => {
      // Lost with its connection (102 on this side: a 102 REPLY is a handler's answer), or refused by
      // an endpoint its client has left for another connection (100): it goes out again.
      const lost = err.code === Code.ConnClosed ? !err.remote : err.code === Code.WrongConn;
      if (!lost || this.peerCaches !== true || !host.resendable(err)) return fail(err);
      if (host.clock.now() - start > host.resumeWindow)
        return fail(
          new DrpcError(
            Code.ConnClosed,
            codeText(Code.ConnClosed),
            `call ${serviceMethod}: no connection within the ${host.resumeWindow} ms resume window`,
          ),
        );
      const timeout = options.timeout ?? host.timeout;
      const left = timeout > 0 ? start + timeout - host.clock.now() : 0;
      if (timeout > 0 && left <= 0) return fail(new DrpcError(Code.HandleTimeout, `call ${serviceMethod} timed out after ${timeout} ms`));
      // The session refused because it is closing, or the endpoint said the client moved (100): let the
      // connection close first (no busy retries), but no longer than the call's time or the resume window.
      if (sentOn && host.current() === sentOn)
        await awaitAtMost(
          host.clock,
          sentOn.closed,
          Math.min(timeout > 0 ? left : Infinity, start + host.resumeWindow + 1 - host.clock.now()),
        );
      const again = host.current();
      // Waits in the client's offline queue for the reconnect, then goes out again under the same seq.
      const o = this.#withSeq(n, { ...options, timeout: left, sendDeadline: options.sendDeadline ?? options.timeout !== undefined });
      return send(o).then(done, (e: DrpcError) => {
        // Canceled while it waited for the connection (or right after it went out again): its original
        // may still run on the endpoint, which heard nothing of it. A second cancel is harmless.
        if (e.code === Code.Canceled) host.cancel(n);
        return retry(e, again);
      });
    };
    const sentOn = host.current();
    return send(this.#withSeq(n, options)).then(done, (e: DrpcError) => retry(e, sentOn));
  }

  #withSeq(n: number, o: CallOptions): CallOptions {
    const acked = this.seqs.acked;
    if (acked - this.#ackSent < ACK_EVERY) return { ...o, seq: n };
    this.#ackSent = acked; // now and then, so the endpoint drops replies the client no longer needs
    return { ...o, seq: n, meta: { ...o.meta, [CALL_ACK_META]: String(acked) } };
  }
}
