/**
 * Which transport a client dials, in the order of its `transports` option: WebSocket first, HTTP
 * when WebSocket cannot open (refused, blocked, timed out). What worked is remembered per URL for
 * the page's (process's) lifetime, so a redial does not wait on a blocked WebSocket again; the
 * client probes WebSocket in the background instead (`probe`) and moves back when it opens.
 */
import type { Clock, TimerHandle } from './clock.ts';
import { DrpcError, Code } from './status.ts';
import { openHttp } from './transport/http.ts';
import type { Transport } from './transport/transport.ts';
import { openWebSocket, type CloseDetails, type WebSocketConstructor } from './transport/websocket.ts';

export type TransportName = 'websocket' | 'http';
export type DialedTransport = Transport & { readonly closeDetails?: CloseDetails };

export interface DialOptions {
  transports: readonly TransportName[];
  WebSocket?: WebSocketConstructor;
  fetch?: typeof fetch;
  headers?: Record<string, string>;
  connectTimeout?: number;
  clock: Clock;
}

const remembered = new Map<string, TransportName>();

export class Dialer {
  /** The transport of the last successful open. */
  current?: TransportName;

  constructor(
    private readonly key: string,
    private readonly o: DialOptions,
  ) {}

  async open(url: string): Promise<DialedTransport> {
    const order = this.o.transports;
    const known = remembered.get(this.key);
    const list = known && order.includes(known) ? [known, ...order.filter((t) => t !== known)] : order;
    const errors: string[] = [];
    let first: unknown;
    for (const name of list) {
      try {
        const t = await this.#open(name, url);
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

  /** On HTTP with WebSocket allowed: worth probing WebSocket in the background. */
  get canUpgrade(): boolean {
    return this.current === 'http' && this.o.transports.includes('websocket');
  }

  /** Opens a WebSocket (the background probe); it becomes the remembered transport when it opens. */
  async probe(url: string): Promise<DialedTransport> {
    const t = await this.#open('websocket', url);
    this.#worked('websocket');
    return t;
  }

  /**
   * Probes WebSocket every `every` ms while `wanted()` holds, until one opens: `opened` gets it.
   * Returns what stops the probing.
   */
  probeEvery(every: number, url: () => Promise<string>, wanted: () => boolean, opened: (ws: DialedTransport) => void): () => void {
    let timer: TimerHandle | undefined;
    const attempt = async () => {
      timer = undefined;
      try {
        const ws = await this.probe(await url());
        if (wanted()) opened(ws);
        else ws.close('superseded');
      } catch {
        if (wanted()) timer = this.o.clock.setTimeout(attempt, every);
      }
    };
    if (every > 0) timer = this.o.clock.setTimeout(attempt, every);
    return () => {
      if (timer !== undefined) this.o.clock.clearTimeout(timer);
      timer = undefined;
    };
  }

  #worked(name: TransportName): void {
    this.current = name;
    remembered.set(this.key, name);
  }

  #open(name: TransportName, url: string): Promise<DialedTransport> {
    const o = this.o;
    if (name === 'http') return openHttp(url, { fetch: o.fetch, headers: o.headers, connectTimeout: o.connectTimeout, clock: o.clock });
    return openWebSocket(url, { WebSocket: o.WebSocket, connectTimeout: o.connectTimeout });
  }
}
