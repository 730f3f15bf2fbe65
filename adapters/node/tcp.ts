/**
 * drpc over plain TCP in Node (DMicro's default transport): RAW frames on a byte stream, split by
 * RawFramer, which checks each frame's u32 length against the limit before buffering any of it.
 * A bad length (too large, or smaller than a header) closes the connection with a clear error.
 *
 * Client: `dialTcp({ host, port, ... })` resolves with an open Session (AUTH_CALL first when `auth`
 * is given). Server: `endpoint.listenTcp({ port })` serves TCP connections as endpoint sessions.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { authenticate } from '../../src/auth.ts';
import { systemClock } from '../../src/clock.ts';
import type { FilterPipes } from '../../src/filter/filter.ts';
import { HeartbeatPing } from '../../src/heartbeat.ts';
import { RawFramer } from '../../src/proto/framer.ts';
import { DEFAULT_MAX_FRAME, type Frame } from '../../src/proto/proto.ts';
import { rawProto } from '../../src/proto/raw.ts';
import { filters as defaultFilters } from '../../src/filter/index.ts';
import { Session, type SessionOptions } from '../../src/session.ts';
import { serveCalls } from '../../src/serve.ts';
import { Code, DrpcError, codeText, type Status } from '../../src/status.ts';
import type { Transport, TransportHandlers } from '../../src/transport/transport.ts';
import { batchWrite, type Corkable, type WriteBatch } from '../../src/transport/cork.ts';
import { EARLY_FRAMES, closedTransport, startListening } from '../../src/transport/transport.ts';
import { checkNumbers } from '../../src/options.ts';

export interface TcpTransportOptions {
  /** Largest inbound frame in bytes (checked from its length prefix, before buffering). Default 16 MiB. */
  maxFrameSize?: number;
  /** Address for logs and the session id. Default: the socket's remote `ip:port` (drpc's accept-side id). */
  remoteAddress?: string;
}

/** Grace for a closing socket to flush before it is destroyed (a peer that stopped reading never drains it). */
const CLOSE_GRACE_MS = 2000;

/** A connected `net.Socket` as a drpc Transport carrying RAW frames. */
export class NodeTcpTransport implements Transport, WriteBatch {
  // A getter, not a field: nothing per connection.
  get kind(): 'tcp' {
    return 'tcp';
  }

  readonly remoteAddress: string;
  /** Write coalescing state (see src/transport/cork.ts). */
  readonly corkable: Corkable;
  batchState = 0;
  readonly #socket: Socket;
  readonly #framer: RawFramer;
  #handlers?: TransportHandlers;
  #early: Frame[] = [];
  #done = false;
  #reason = '';
  #error?: unknown;

  constructor(socket: Socket, options: TcpTransportOptions = {}) {
    this.#socket = socket;
    this.corkable = socket;
    this.#framer = new RawFramer(options.maxFrameSize ?? DEFAULT_MAX_FRAME);
    this.remoteAddress = options.remoteAddress ?? `${socket.remoteAddress}:${socket.remotePort}`;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('end', () => this.#finish('tcp connection closed by the peer'));
    socket.on('close', () => this.#finish('tcp connection closed'));
    socket.on('error', (err: Error) => this.#finish(`tcp error: ${err.message}`, err));
  }

  get bufferedAmount(): number {
    return this.#socket.writableLength;
  }

  listen(handlers: TransportHandlers): void {
    this.#handlers = handlers;
    const early = this.#early;
    this.#early = [];
    startListening(handlers, early, this.#done ? { reason: this.#reason, error: this.#error } : undefined);
    if (this.#socket.isPaused()) this.#socket.resume();
  }

  send(frame: Frame): void {
    if (this.#done || this.#socket.destroyed) throw closedTransport('tcp connection is closed');
    if (typeof frame === 'string') throw new DrpcError(Code.BadMessage, 'tcp carries binary RAW frames only (got a text frame)');
    batchWrite(this);
    this.#socket.write(frame);
  }

  /** Flushes what is queued, then closes. TCP cannot tell the peer a status: it sees the connection end. */
  close(reason = 'closed', _status?: Status): void {
    if (this.#done) return;
    const socket = this.#socket;
    const timer = setTimeout(() => socket.destroy(), CLOSE_GRACE_MS);
    timer.unref();
    socket.end(() => {
      clearTimeout(timer);
      socket.destroy();
    });
    this.#finish(reason);
  }

  #onData(chunk: Buffer): void {
    if (this.#done) return;
    let frames: Uint8Array[];
    try {
      frames = this.#framer.push(chunk);
    } catch (err) {
      // The stream cannot be resynchronised after a bad length: drop the connection.
      const e = DrpcError.from(err, Code.BadMessage);
      this.#socket.destroy();
      return this.#finish(`tcp: bad frame from ${this.remoteAddress}: ${e.message}`, e);
    }
    for (const f of frames) {
      if (this.#done) return; // a frame handler may close the session
      if (this.#handlers) this.#handlers.receiveFrame(f);
      else if (this.#early.push(f) === EARLY_FRAMES) this.#socket.pause();
    }
  }

  #finish(reason: string, error?: unknown): void {
    if (this.#done) return;
    this.#done = true;
    this.#reason = reason;
    this.#error = error;
    this.#socket.removeAllListeners('data');
    this.#socket.on('error', () => {}); // late socket errors have nobody to tell
    this.#handlers?.transportClosed(reason, error);
  }
}

export interface DialTcpOptions extends Omit<SessionOptions, 'preparing'> {
  port: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Largest inbound frame in bytes (also bounds gzip inflation). Default 16 MiB. */
  maxFrameSize?: number;
  /** Transfer filters the RAW proto may apply. Default: the shared registry (gzip, md5). */
  filters?: FilterPipes;
  /** ms to establish the TCP connection (105 Dial Failed after). Default 10000. */
  connectTimeout?: number;
  /** AUTH_CALL payload sent first; the session opens when the AUTH_REPLY is OK, else dialTcp rejects (401). */
  auth?: unknown;
  /** ms to wait for the AUTH_REPLY. Default 10000. */
  authTimeout?: number;
  /** Heartbeat ping (`/heartbeat` CALL with meta `hb_`, dead after 2 × rate): `{ rate }` seconds (min 3). Default off. */
  heartbeat?: { rate: number } | false;
}

/**
 * Dials a drpc peer over TCP (RAW proto, DMicro's default) and resolves with an open Session; rejects
 * with 105 when the connection fails, with the AUTH_REPLY's status (401) when auth is refused.
 */
export async function dialTcp(options: DialTcpOptions): Promise<Session> {
  const {
    host = '127.0.0.1',
    port,
    maxFrameSize,
    filters,
    connectTimeout = 10_000,
    auth,
    authTimeout = 10_000,
    heartbeat = false,
    ...sessionOptions
  } = options;
  checkNumbers([
    ['port', port, 0, true],
    ['maxFrameSize', maxFrameSize, 1, true],
    ['connectTimeout', connectTimeout, 1],
    ['authTimeout', authTimeout, 1],
    ['timeout', sessionOptions.timeout, 0],
    ['maxPendingCalls', sessionOptions.maxPendingCalls, 1, true],
    ['maxConcurrentCalls', sessionOptions.maxConcurrentCalls, 1, true],
  ]);
  const socket = await openSocket(host, port, connectTimeout);
  const transport = new NodeTcpTransport(socket, { maxFrameSize });
  const session = new Session(transport, {
    serve: serveCalls, // a Node peer serves its routes
    ...sessionOptions,
    proto: sessionOptions.proto ?? rawProto({ maxFrameSize, filters: filters ?? defaultFilters }),
    preparing: auth !== undefined,
  });
  if (auth !== undefined) {
    try {
      await authenticate(session, auth, authTimeout);
    } catch (err) {
      const e = DrpcError.from(err, Code.Unauthorized);
      session.abort(e.toStatus(), `auth failed: ${e.causeText || e.message}`);
      throw e;
    }
    if (session.state !== 'preparing') throw new DrpcError(Code.ConnClosed, codeText(Code.ConnClosed), 'closed during the auth handshake');
    session.start();
  }
  if (heartbeat) {
    const ping = new HeartbeatPing(session, sessionOptions.clock ?? systemClock, heartbeat.rate, (why) =>
      session.abort({ code: Code.ConnClosed, msg: codeText(Code.ConnClosed), cause: why }, why),
    );
    session.on('close', () => ping.stop());
  }
  return session;
}

function openSocket(host: string, port: number, timeout: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const where = `tcp://${host.includes(':') ? `[${host}]` : host}:${port}`;
    const socket = netConnect({ host, port });
    const fail = (why: string) => {
      clearTimeout(timer);
      socket.destroy();
      reject(new DrpcError(Code.DialFailed, `cannot dial ${where}`, why));
    };
    const timer = setTimeout(() => fail(`no connection within ${timeout} ms`), timeout);
    socket.once('error', (err) => fail(err.message));
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve(socket);
    });
  });
}
