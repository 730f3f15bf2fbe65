/**
 * Shared by the integration tests: real sockets on 127.0.0.1, Node client ↔ Node endpoint.
 * A Harness owns everything a test opens and closes it (newest first) when the test ends, so
 * every file exits by itself.
 */
import net from 'node:net';
import { createServer, type IncomingMessage, type RequestListener, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { TestContext } from 'node:test';
import WebSocket from 'ws';
import { createEndpoint, type Endpoint, type EndpointOptions } from '../../adapters/node/endpoint.ts';
import { connect, type Client, type ClientState, type ConnectOptions, type StateInfo } from '../../src/client.ts';
import { createMessage, MType, type Message } from '../../src/message.ts';
import { HELLO_QUERY } from '../../src/extensions.ts';
import { rawProto } from '../../src/proto/raw.ts';
import { http } from '../../src/transport/http.ts';
import { nodeFetch } from '../../src/transport/node-fetch.ts';
import type { Session } from '../../src/session.ts';
import { Code, DrpcError, codeText } from '../../src/status.ts';
import type { Gap } from '../../src/topics.ts';

/**
 * The transport the suites run over: `DRPC_TEST_TRANSPORT=http` runs every client/endpoint and
 * push/resume test again over the HTTP fallback (one parameterized suite, not a copy).
 */
export const TRANSPORT: 'websocket' | 'http' = process.env.DRPC_TEST_TRANSPORT === 'http' ? 'http' : 'websocket';
/** For tests of WebSocket-only behavior (upgrade refusals, close codes, raw sockets). */
export const WS_ONLY = TRANSPORT === 'http' ? { skip: 'WebSocket only' } : {};
/** The encoding the suites' clients write: `DRPC_TEST_PROTO=json` runs them on drpc's JSON sub-protocol (default RAW). */
export const PROTO: 'raw' | 'json' = process.env.DRPC_TEST_PROTO === 'json' ? 'json' : 'raw';
/**
 * `DRPC_TEST_AUTH=1`: every endpoint a test makes without `auth` checks a token, and every client
 * sends it, so the suites also run behind drpc's auth exchange (AUTH_CALL first, then the session).
 */
export const AUTH = process.env.DRPC_TEST_AUTH === '1';
const SUITE_TOKEN = 'suite-token';
/** The endpoint options of the run: `options`, behind a token check in an AUTH run. */
export function withSuiteAuth<O extends object>(options: O): O {
  if (!AUTH || (options as { auth?: unknown }).auth !== undefined) return options;
  const auth = (payload: unknown) => {
    if (payload !== SUITE_TOKEN) throw new DrpcError(Code.Unauthorized, codeText(Code.Unauthorized), 'not the suite token');
    return 'welcome';
  };
  return { ...options, auth };
}
/** For tests whose scripted peer reads and writes RAW frames itself, over WebSocket (and sends no AUTH_CALL). */
export const RAW_WS_ONLY = TRANSPORT === 'http' || PROTO === 'json' || AUTH ? { skip: 'a scripted RAW WebSocket peer' } : {};

export const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `cond` every 5 ms until it holds; rejects after `timeout` ms naming `what`. */
export async function until(cond: () => boolean | Promise<boolean>, what = 'condition', timeout = 3000): Promise<void> {
  const end = Date.now() + timeout;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await delay(5);
  }
}

/** Rejects if `p` has not settled within `ms`. */
export function within<T>(p: Promise<T>, ms: number, what = 'promise'): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms))),
  ]).finally(() => clearTimeout(timer));
}

/** The DrpcError a promise rejects with (fails if it resolves). */
export async function rejection(p: Promise<unknown>): Promise<DrpcError> {
  try {
    const v = await p;
    throw Object.assign(new Error(`expected a rejection, got ${JSON.stringify(v)}`), { resolvedInstead: true });
  } catch (err) {
    if ((err as { resolvedInstead?: boolean }).resolvedInstead) throw err;
    return err as DrpcError;
  }
}

/** Counts how often each tracked call settled, and how. */
export class Settlements {
  readonly results: { name: string; ok: boolean; value: unknown }[] = [];
  track<T>(name: string, p: Promise<T>): Promise<T> {
    p.then(
      (value) => this.results.push({ name, ok: true, value }),
      (value) => this.results.push({ name, ok: false, value }),
    );
    return p;
  }
  count(name: string): number {
    return this.results.filter((r) => r.name === name).length;
  }
  get size(): number {
    return this.results.length;
  }
}

/** A port nobody listens on (right now). */
export async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** Every state event of a client, with waits. */
export class StateLog {
  readonly events: StateInfo[] = [];
  #waiters: (() => void)[] = [];
  constructor(client: Client) {
    client.on('state', (info) => {
      this.events.push(info);
      for (const w of this.#waiters.splice(0)) w();
    });
  }
  get states(): ClientState[] {
    return this.events.map((e) => e.state);
  }
  /** States with consecutive repeats folded (several failed redials are one 'reconnecting'). */
  get folded(): ClientState[] {
    return this.states.filter((s, i, all) => i === 0 || all[i - 1] !== s);
  }
  /** Resolves with the first event in `state` at index ≥ `from`. */
  async waitFor(state: ClientState, from = 0, timeout = 5000): Promise<StateInfo> {
    const end = Date.now() + timeout;
    for (;;) {
      const hit = this.events.slice(from).find((e) => e.state === state);
      if (hit) return hit;
      const left = end - Date.now();
      if (left <= 0) throw new Error(`no '${state}' state within ${timeout} ms (saw ${this.states.join(' → ')})`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.#waiters.push(() => (clearTimeout(t), r()));
      });
    }
  }
  /** Waits for the next event in `state` after the ones seen so far. */
  next(state: ClientState, timeout = 5000): Promise<StateInfo> {
    return this.waitFor(state, this.events.length, timeout);
  }
}

/** A plain `ws` client speaking raw bytes: sends what it is told, records what arrives. */
export class RawPeer {
  readonly frames: (Buffer | string)[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  #waiters: (() => void)[] = [];
  constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      this.frames.push(isBinary ? data : data.toString('utf8'));
      for (const w of this.#waiters.splice(0)) w();
    });
    ws.on('error', () => {});
    this.closed = new Promise((r) => ws.once('close', (code: number, reason: Buffer) => r({ code, reason: reason.toString() })));
  }
  /** Decoded RAW messages received so far. */
  get messages(): Message[] {
    return this.frames.filter((f): f is Buffer => typeof f !== 'string').map((f) => unpackRaw(f));
  }
  send(fields: Partial<Message> & Pick<Message, 'mtype'>, body?: unknown): void {
    this.ws.send(packRaw(fields, body));
  }
  /** The REPLY to call `seq`, once it has arrived. */
  async replyTo(seq: number, timeout = 3000): Promise<Message> {
    const find = () => this.messages.find((m) => m.mtype === MType.Reply && m.seq === seq);
    await until(() => find() !== undefined, `the reply to call ${seq}`, timeout);
    return find()!;
  }
  async nextMessage(timeout = 3000): Promise<Message> {
    const start = this.frames.length;
    await until(() => this.frames.length > start, 'a frame', timeout);
    return unpackRaw(this.frames[start] as Buffer);
  }
}

const raw = rawProto();

/** Packs one message as a RAW frame (a json body is encoded when given). */
export function packRaw(fields: Partial<Message> & Pick<Message, 'mtype'>, body?: unknown): Uint8Array {
  const m = createMessage(fields);
  if (body !== undefined) {
    m.bodyCodec = 106;
    m.body = new TextEncoder().encode(JSON.stringify(body));
  }
  return raw.pack(m) as Uint8Array;
}

export function unpackRaw(frame: Uint8Array): Message {
  return raw.unpack(frame) as Message;
}

export function decodeJson(m: Message): unknown {
  return m.body.length ? JSON.parse(new TextDecoder().decode(m.body)) : undefined;
}

/** How a raw WebSocket dial ended: open, or the HTTP refusal with its body. */
export type DialOutcome = { open: true; ws: WebSocket; peer: RawPeer } | { open: false; status: number; body: string };

export function rawDial(url: string, options: WebSocket.ClientOptions = {}): Promise<DialOutcome> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false, ...options });
    const peer = new RawPeer(ws); // listening from the start: a server may speak first
    ws.once('open', () => resolve({ open: true, ws, peer }));
    ws.once('unexpected-response', (_req, res: IncomingMessage) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ open: false, status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    ws.once('error', reject);
  });
}

/** Console warnings are collected, not printed (set DRPC_TEST_VERBOSE=1 to see them). */
export const warnings: string[] = [];
const warn = console.warn;
console.warn = (...args: unknown[]) => {
  warnings.push(args.map(String).join(' '));
  if (process.env.DRPC_TEST_VERBOSE) warn(...args);
};

export interface Served {
  ep: Endpoint;
  url: string;
  port: number;
  /** Errors the endpoint reported through onError. */
  errors: { err: DrpcError; session?: Session }[];
}

/** Everything one test opens; closed newest first when the test ends. */
export class Harness {
  readonly #cleanups: (() => unknown)[] = [];
  /** Peers (clients, raw sockets) go before servers, so no client redials into a closing endpoint. */
  readonly #peers: (() => unknown)[] = [];

  constructor(t: TestContext) {
    t.after(() => this.cleanup());
  }

  defer(fn: () => unknown, peer = false): void {
    (peer ? this.#peers : this.#cleanups).push(fn);
  }

  async cleanup(): Promise<void> {
    let first: unknown;
    for (const fn of [...this.#peers.splice(0).reverse(), ...this.#cleanups.splice(0).reverse()]) {
      try {
        await fn();
      } catch (err) {
        first ??= err;
      }
    }
    if (first) throw first;
  }

  /** A listening endpoint on 127.0.0.1 (path /rpc); errors it reports are collected. */
  async endpoint(options: EndpointOptions = {}, listen: { port?: number; path?: string } = {}): Promise<Served> {
    const errors: Served['errors'] = [];
    const ep = createEndpoint(withSuiteAuth({ onError: (err, session) => errors.push({ err, session }), ...options }));
    this.defer(() => ep.close({ drain: 0 }));
    const { url, port } = await ep.listen({ port: listen.port ?? 0, path: listen.path ?? '/rpc' });
    return { ep, url, port, errors };
  }

  /** A client (no heartbeat, quick redials unless told otherwise), closed at the end. */
  client(url: string, options: ConnectOptions = {}): Client {
    const c = this.connectLoose(url, options);
    this.defer(() => c.close('test over'), true);
    return c;
  }

  /** The same client, but the harness keeps no reference to it: the test closes it (see leaks.test.ts). */
  connectLoose(url: string, options: ConnectOptions = {}): Client {
    return connect(url, {
      heartbeat: false,
      reconnect: { min: 20, max: 200 },
      transports: [TRANSPORT === 'http' ? http : 'websocket'],
      fetch: nodeFetch(), // as a Node app would pass it (the HTTP transport's default is the global fetch)
      ...(PROTO === 'json' ? { proto: 'json' as const } : {}),
      ...(AUTH ? { auth: () => SUITE_TOKEN } : {}),
      ...options,
    });
  }

  /** A client and its state log. */
  logged(url: string, options: ConnectOptions = {}): { client: Client; log: StateLog } {
    const client = this.client(url, options);
    return { client, log: new StateLog(client) };
  }

  /** A plain http.Server on 127.0.0.1 (for attach()), closed at the end. */
  async httpServer(handler?: RequestListener): Promise<{ server: Server; port: number }> {
    const server = createServer(handler);
    const sockets = new Set<Duplex>();
    server.on('connection', (s) => (sockets.add(s), s.on('close', () => sockets.delete(s))));
    this.defer(async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    return { server, port: (server.address() as net.AddressInfo).port };
  }

  async raw(url: string, options: WebSocket.ClientOptions = {}): Promise<RawPeer> {
    const out = await rawDial(url, options);
    if (!out.open) throw new Error(`raw dial refused: HTTP ${out.status} ${out.body}`);
    this.defer(() => out.ws.terminate(), true);
    return out.peer;
  }
}

/** The endpoint's only session (waits for it). */
export async function onlySession(ep: Endpoint): Promise<Session> {
  await until(() => ep.sessions.count === 1, 'one session on the endpoint');
  return ep.sessions.list()[0]!;
}

/** Records unhandled rejections while a test runs. */
export function recordUnhandled(h: Harness): unknown[] {
  const seen: unknown[] = [];
  const on = (reason: unknown) => seen.push(reason);
  process.on('unhandledRejection', on);
  h.defer(() => process.off('unhandledRejection', on));
  return seen;
}

/** A small deterministic PRNG (mulberry32), so a failing run can be replayed. */
export function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * What the chaos tests share: `count` counted calls to `/count`, 1–3 ms apart, settled as they come
 * (no rejection waits unobserved), alongside `chaos`. Once both ended and every call settled, `stop()`
 * ends the publisher; then every published message must arrive or lie in a reported gap. Resolves
 * with the calls' values, in call order.
 */
export async function underChaos(o: {
  client: Client;
  count: number;
  random: () => number;
  chaos: Promise<unknown>;
  stop: () => Promise<unknown>;
  received: () => number;
  gaps: readonly Gap[];
  published: () => number;
  seed: number;
}): Promise<unknown[]> {
  const calls: Promise<unknown>[] = [];
  const caller = (async () => {
    for (let n = 1; n <= o.count; n++) {
      calls.push(o.client.call('/count', n, { timeout: 20_000 }).catch((err: unknown) => err));
      await delay(1 + Math.floor(o.random() * 3));
    }
  })();
  let values: unknown[];
  try {
    await Promise.all([caller, o.chaos]);
    values = await Promise.all(calls);
  } finally {
    await o.stop();
  }
  const missed = () => o.gaps.reduce((n, g) => n + (g.to - g.from + 1), 0);
  await until(() => o.received() + missed() >= o.published(), `all ${o.published()} messages (seed ${o.seed})`, 10_000);
  return values;
}

/** Endpoint options that bind a client's durable state to the user its auth payload names. */
export const byUser = {
  auth: (payload: unknown, session: Session) => void session.data.set('user', (payload as { user: string }).user),
  principal: (session: Session) => session.data.get('user') as string | undefined,
};

/**
 * A scripted peer that dials with client id `id`, authenticates as `user`, and sends call number
 * `seq` of `/charge` (never acknowledged, so its reply stays cached); resolves with the reply's body.
 */
export async function chargeAs(h: Harness, url: string, id: string, user: string, seq = 7): Promise<unknown> {
  const peer = await h.raw(`${url}?${HELLO_QUERY}=${id}`);
  peer.send({ seq: 1, mtype: MType.AuthCall }, { user });
  await until(() => peer.messages.some((m) => m.mtype === MType.AuthReply), 'the AUTH_REPLY');
  peer.send({ seq, mtype: MType.Call, serviceMethod: '/charge' });
  const reply = await peer.replyTo(seq);
  if (reply.status.code !== 0) throw DrpcError.fromStatus(reply.status);
  peer.ws.close();
  await peer.closed;
  return decodeJson(reply);
}
