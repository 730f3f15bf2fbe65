/**
 * An endpoint's side of its broker: it holds the ids of this node's sessions (so pushes other nodes
 * address to them arrive), relays pushes to sessions it does not hold, and sends and takes
 * broadcasts to every node. Topics use the broker's logs directly (src/topics.ts).
 */
import type { CallOptions, PushOptions } from '../../src/session-types.ts';
import type { Session } from '../../src/session.ts';
import { Code, DrpcError, codeText } from '../../src/status.ts';
import type { Broker, RelayedBroadcast } from './broker.ts';
import type { SessionHub } from './hub.ts';

export interface LinkOwner {
  readonly sessions: SessionHub;
  /** Pushes a broadcast from another node to this node's sessions (everyone, or a room). */
  broadcastHere(b: RelayedBroadcast): void;
  report(err: DrpcError, session?: Session): void;
}

export class BrokerLink {
  /** This endpoint, among every node's: it skips its own broadcasts when they come back. */
  readonly origin = Date.now().toString(36) + Math.random().toString(36).slice(2, 10);
  readonly #stop: () => void;

  constructor(
    readonly broker: Broker,
    private readonly owner: LinkOwner,
  ) {
    this.#stop = broker.onFanOut((b) => {
      if (b.origin !== this.origin) owner.broadcastHere(b);
    });
  }

  /** Takes the pushes and calls other nodes send to session `id` (this node holds it). */
  hold(id: string): void {
    const sessions = this.owner.sessions;
    this.broker.hold(id, {
      push: (p) => {
        const s = sessions.get(id);
        s?.push(p.serviceMethod, p.payload, { meta: p.meta }).catch((err: unknown) => this.owner.report(DrpcError.from(err), s));
      },
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

  close(): void {
    this.#stop();
  }
}
