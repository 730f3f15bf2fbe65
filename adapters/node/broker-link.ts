/**
 * An endpoint's side of its broker: it holds the ids of this node's sessions (so pushes other nodes
 * address to them arrive), relays pushes to sessions it does not hold, and sends and takes
 * broadcasts to every node. Topics use the broker's logs directly (src/topics.ts).
 */
import type { PushOptions } from '../../src/session-types.ts';
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

  /** Takes pushes other nodes send to session `id` (this node holds it). */
  hold(id: string): void {
    this.broker.hold(id, (p) => {
      const s = this.owner.sessions.get(id);
      s?.push(p.serviceMethod, p.payload, { meta: p.meta }).catch((err: unknown) => this.owner.report(DrpcError.from(err), s));
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

  /** Sends a broadcast to every other node; a failure is reported (this node's part went out already). */
  fanOut(serviceMethod: string, payload: unknown, options: PushOptions & { room?: string }): void {
    const b = { origin: this.origin, serviceMethod, payload, meta: options.meta, room: options.room };
    this.broker.fanOut(b).catch((err: unknown) => this.owner.report(DrpcError.from(err, Code.BadGateway)));
  }

  close(): void {
    this.#stop();
  }
}
