/**
 * Which transport a client dials, in the order of its `transports` option: WebSocket first, then a
 * fallback such as `http` from `drpc/http` when WebSocket cannot open (refused, blocked, timed out).
 * A fallback is imported, not built in, so that an app pays for it only when it uses it. What worked is remembered per URL for
 * the page's (process's) lifetime, so a redial does not wait on a blocked WebSocket again; the
 * client probes WebSocket in the background instead (`probe`) and moves back when it opens.
 */
import type { Clock, TimerHandle } from './clock.ts';
import { DrpcError, Code } from './status.ts';
import type { Transport } from './transport/transport.ts';
import type { FetchLike } from './transport/node-fetch.ts';
import { openWebSocket, type CloseDetails, type WebSocketConstructor } from './transport/websocket.ts';

/** 'websocket', or the `name` of a fallback transport ('http'). */
export type TransportName = string;
export type DialedTransport = Transport & { readonly closeDetails?: CloseDetails };

/** A transport a client can dial besides the built-in WebSocket: `http` from `drpc/http`. */
export interface TransportOpener {
  readonly name: string;
  open(url: string, options: DialOptions): Promise<DialedTransport>;
}

/** One entry of the `transports` option. */
export type TransportChoice = 'websocket' | TransportOpener;

export interface DialOptions {
  transports: readonly TransportChoice[];
  WebSocket?: WebSocketConstructor;
  fetch?: FetchLike;
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
    const known = order.find((t) => nameOf(t) === remembered.get(this.key));
    const list = known ? [known, ...order.filter((t) => t !== known)] : order;
    const errors: string[] = [];
    let first: unknown;
    for (const choice of list) {
      const name = nameOf(choice);
      try {
        const t = await (choice === 'websocket' ? this.#openWebSocket(url) : choice.open(url, this.o));
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
    return this.current !== 'websocket' && this.o.transports.includes('websocket');
  }

  /** Opens a WebSocket (the background probe); it becomes the remembered transport when it opens. */
  async probe(url: string): Promise<DialedTransport> {
    const t = await this.#openWebSocket(url);
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

  #openWebSocket(url: string): Promise<DialedTransport> {
    return openWebSocket(url, { WebSocket: this.o.WebSocket, connectTimeout: this.o.connectTimeout });
  }
}

const nameOf = (t: TransportChoice): string => (t === 'websocket' ? t : t.name);

/** The `transports` option checked: a name other than 'websocket' means a fallback that was not imported. */
export function checkTransports(list: readonly TransportChoice[]): readonly TransportChoice[] {
  for (const t of list)
    if (t !== 'websocket' && typeof t?.open !== 'function')
      throw new DrpcError(
        Code.InvalidOp,
        `transports: ${JSON.stringify(t)} is not a transport`,
        (t as unknown) === 'http'
          ? "import { http } from 'drpc/http' and pass it: transports: ['websocket', http]"
          : "use 'websocket' or an imported transport such as http from drpc/http",
      );
  if (list.length === 0) throw new DrpcError(Code.InvalidOp, 'transports: the list is empty');
  return list;
}
