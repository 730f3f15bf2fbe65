/**
 * faultProxy(): a TCP proxy for your own tests that breaks connections on command, the way networks
 * do: cut them (a reset), freeze them (half-open: nothing passes, nothing closes, as behind a dead
 * NAT or on a sleeping laptop), refuse new ones (a server down or a blocking proxy), add latency, or
 * send new connections elsewhere (a deploy, a load balancer). It works below drpc, so WebSocket, the
 * HTTP fallback and plain TCP all go through it unchanged.
 *
 *   const proxy = await faultProxy({ target: 3000 });
 *   const client = connect(proxy.url('/rpc'));
 *   proxy.freeze();          // the client's heartbeat must notice
 *   proxy.heal();            // what was held goes through, in order
 *   await proxy.close();
 */
import net from 'node:net';
import { badMessage } from '../../src/status.ts';

export interface FaultProxyOptions {
  /** Where connections go: a port, or a function that picks one per new connection (a load balancer). */
  target: number | (() => number);
  /** The host the target listens on. Default '127.0.0.1'. */
  targetHost?: string;
  /** Where the proxy listens: host and port. Default '127.0.0.1', a free port. */
  host?: string;
  port?: number;
}

export interface FaultProxy {
  readonly port: number;
  /** The proxy's URL for `path`, e.g. `ws://127.0.0.1:<port>/rpc` (scheme 'ws' by default). */
  url(path?: string, scheme?: string): string;
  /** Connections open now. */
  readonly open: number;
  /** Connections accepted so far, by target port. */
  readonly accepted: ReadonlyMap<number, number>;
  /** Closes every open connection at once (both sides see it). */
  cut(): void;
  /** Half-open: open connections stay open but nothing passes either way until `heal()`; the data is held, in order. */
  freeze(): void;
  /** New connections are closed as they come, and open ones cut, until `heal()` or `to()`. */
  refuse(): void;
  /** Each chunk waits `ms` before it goes on, both ways (0: none). */
  latency(ms: number): void;
  /** New connections go to `target`; open ones are cut (they reconnect there), refusing ends. */
  to(target: number | (() => number)): void;
  /** Back to normal: held data goes through, new connections are accepted, no latency. */
  heal(): void;
  /** Cuts every connection and stops listening. */
  close(): Promise<void>;
}

/** One direction of one connection: chunks go on in order, held while frozen, late by the latency. */
class Pipe {
  #held: Buffer[] = [];
  #due = 0;

  constructor(
    private readonly to: net.Socket,
    private readonly state: { frozen: boolean; latency: number },
  ) {}

  push(chunk: Buffer): void {
    if (this.state.frozen || this.#held.length) return void this.#held.push(chunk);
    this.#send(chunk);
  }

  /** After a freeze: what was held goes on, in order. */
  flush(): void {
    const held = this.#held;
    this.#held = [];
    for (const chunk of held) this.#send(chunk);
  }

  #send(chunk: Buffer): void {
    const { latency } = this.state;
    if (!latency) return void this.to.write(chunk);
    // Due times never go down, so the timers fire (and the chunks go on) in order.
    const now = Date.now();
    this.#due = Math.max(now + latency, this.#due);
    setTimeout(() => this.to.destroyed || this.to.write(chunk), this.#due - now);
  }
}

export async function faultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const targetHost = options.targetHost ?? '127.0.0.1';
  let pick = picker(options.target);
  const state = { frozen: false, latency: 0, refusing: false };
  const sockets = new Set<net.Socket>();
  const pipes = new Set<Pipe>();
  const accepted = new Map<number, number>();
  const cut = () => {
    for (const s of sockets) s.destroy();
  };

  const server = net.createServer((inbound) => {
    if (state.refusing) return void inbound.destroy();
    const port = pick();
    accepted.set(port, (accepted.get(port) ?? 0) + 1);
    const outbound = net.connect(port, targetHost);
    const up = new Pipe(outbound, state);
    const down = new Pipe(inbound, state);
    for (const [from, pipe] of [
      [inbound, up],
      [outbound, down],
    ] as const) {
      sockets.add(from);
      pipes.add(pipe);
      from.on('data', (chunk: Buffer) => pipe.push(chunk));
      from.on('error', () => {});
      from.on('close', () => {
        sockets.delete(from);
        pipes.delete(pipe);
        inbound.destroy();
        outbound.destroy();
      });
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as net.AddressInfo;

  return {
    port,
    url: (path = '/', scheme = 'ws') => `${scheme}://${options.host ?? '127.0.0.1'}:${port}${path}`,
    get open() {
      return sockets.size / 2;
    },
    accepted,
    cut,
    freeze: () => void (state.frozen = true),
    refuse: () => {
      state.refusing = true;
      cut();
    },
    latency: (ms) => {
      if (!(typeof ms === 'number' && ms >= 0 && ms !== Infinity))
        throw badMessage(`faultProxy: latency must be a number of ms ≥ 0, got ${String(ms)}`);
      state.latency = ms;
    },
    to: (target) => {
      pick = picker(target);
      state.refusing = false;
      cut();
    },
    heal: () => {
      state.frozen = false;
      state.refusing = false;
      state.latency = 0;
      for (const pipe of pipes) pipe.flush();
    },
    close: () => {
      cut();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function picker(target: number | (() => number)): () => number {
  if (typeof target === 'function') return target;
  if (!Number.isInteger(target) || target < 1 || target > 65535)
    throw badMessage(`faultProxy: target must be a port or a function, got ${String(target)}`);
  return () => target;
}
