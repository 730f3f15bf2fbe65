/**
 * The Dialing of a client whose `transports` list holds a fallback (`http` from `drpc/http`, which
 * imports this file): tries the list in order, WebSocket first, and falls back when WebSocket cannot
 * open (refused, blocked, timed out). What worked is remembered per URL for the page's (process's)
 * lifetime, so a redial does not wait on a blocked WebSocket again; while on the fallback, WebSocket
 * is probed in the background (`upgrade`) and the client moves back when it opens.
 */
import type { TimerHandle } from './clock.ts';
import { DrpcError, Code } from './status.ts';
import { openWebSocket } from './transport/websocket.ts';
import type { DialedTransport, DialOptions, Dialing, TransportChoice, TransportName } from './dialing.ts';

const remembered = new Map<string, TransportName>();

export class Dialer implements Dialing {
  current?: TransportName;
  #waiting?: DialedTransport;

  readonly #o: DialOptions;

  constructor(o: DialOptions) {
    this.#o = o;
  }

  get waiting(): boolean {
    return !!this.#waiting;
  }

  async open(url: string): Promise<DialedTransport> {
    const ws = this.#waiting;
    this.#waiting = undefined;
    if (ws) return ws;
    const order = this.#o.transports;
    const known = order.find((t) => nameOf(t) === remembered.get(this.#o.url));
    const list = known ? [known, ...order.filter((t) => t !== known)] : order;
    const errors: string[] = [];
    let first: unknown;
    for (const choice of list) {
      const name = nameOf(choice);
      try {
        const t = await (choice === 'websocket' ? openWebSocket(url, this.#o) : choice.open(url, this.#o));
        this.#worked(name);
        return t;
      } catch (err) {
        first ??= err;
        errors.push(`${name}: ${DrpcError.from(err).detail}`);
      }
    }
    const e = DrpcError.from(first, Code.DialFailed);
    if (errors.length < 2) throw e;
    throw new DrpcError(e.code, e.message, errors.join('; '));
  }

  upgrade(url: () => Promise<string>, wanted: () => boolean, opened: () => void): () => void {
    const every = this.#o.upgradeInterval ?? 30_000;
    const clock = this.#o.clock;
    let timer: TimerHandle | undefined;
    const attempt = async () => {
      timer = undefined;
      try {
        const ws = await openWebSocket(await url(), this.#o);
        this.#worked('websocket');
        if (!wanted()) return ws.close('superseded');
        this.#waiting = ws;
        opened();
      } catch {
        if (wanted()) timer = clock.setTimeout(attempt, every);
      }
    };
    if (every > 0 && this.current !== 'websocket' && this.#o.transports.includes('websocket')) timer = clock.setTimeout(attempt, every);
    return () => {
      if (timer !== undefined) clock.clearTimeout(timer);
      timer = undefined;
    };
  }

  drop(): void {
    this.#waiting?.close('client closed');
    this.#waiting = undefined;
  }

  #worked(name: TransportName): void {
    this.current = name;
    remembered.set(this.#o.url, name);
  }
}

const nameOf = (t: TransportChoice): string => (t === 'websocket' ? t : t.name);
