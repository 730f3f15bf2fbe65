/**
 * How connections reach an endpoint: WebSocket upgrades on http.Servers (yours through `attach`, or
 * one of its own through `listen`) and plain TCP listeners. Each connection is admitted (limits,
 * origin, `verifyUpgrade`), wrapped in a Transport and handed to the endpoint's `serve`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type ServerOptions, type WebSocket } from 'ws';
import { clientIdOf, HELLO_QUERY } from '../../src/extensions.ts';
import type { Proto } from '../../src/proto/proto.ts';
import { Code, codeText } from '../../src/status.ts';
import type { Transport } from '../../src/transport/transport.ts';
import { encodeStatus } from '../../src/wire-text.ts';
import { listenTcp, type TcpListener } from './tcp-listen.ts';
import { ignoreError, rejectUpgrade } from './upgrade.ts';
import { NodeWebSocketTransport } from './ws-transport.ts';

/** What the acceptor needs of its endpoint. */
export interface AcceptorHost {
  maxFrameSize: number;
  /** The proto of a TCP connection (RAW with the endpoint's filters). */
  tcpProto(): Proto;
  /** Whether one more TCP connection may open (not closing, under maxConnections). */
  acceptsTcp(): boolean;
  /** Admission of a WebSocket upgrade (throws the refusal). */
  admit(req: IncomingMessage, url: URL): Promise<void>;
  serve(transport: Transport, options: { proto?: Proto; hello?: boolean; clientId?: string }): unknown;
  /** The endpoint's HTTP routes under `path`; false when the request is not one of them. */
  handleRequest(req: IncomingMessage, res: ServerResponse, path: string): boolean;
}

export class Acceptor {
  readonly #host: AcceptorHost;
  readonly #wss: WebSocketServer;
  readonly #attached: { off: () => void }[] = [];
  readonly #tcpServers = new Set<{ close(): Promise<void> }>();
  #ownServer?: Server;

  constructor(host: AcceptorHost) {
    this.#host = host;
    // No permessage-deflate and no subprotocol unless asked: Go's x/net/websocket client expects neither.
    // closeTimeout: a peer that stopped reading never answers our close frame; drop it after 2 s, not ws's 30 s
    // (close() and the http server's own close wait for every socket).
    this.#wss = new WebSocketServer({
      noServer: true,
      perMessageDeflate: false,
      maxPayload: host.maxFrameSize,
      closeTimeout: 2000, // a ws server option (we depend on ws ^8.23); @types/ws lacks it
    } as ServerOptions);
  }

  /** See Endpoint.attach. */
  attach(server: Server, path: string, http: boolean): void {
    const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (url.pathname !== path) return; // someone else's upgrade (another library on the same server)
      void this.#upgrade(req, socket, head, url);
    };
    const onRequest = (req: IncomingMessage, res: ServerResponse) => void this.#host.handleRequest(req, res, path);
    server.on('upgrade', onUpgrade);
    if (http) server.on('request', onRequest);
    this.#attached.push({ off: () => (server.off('upgrade', onUpgrade), server.off('request', onRequest)) });
  }

  /** See Endpoint.listen. */
  async listen(port: number, host: string, path: string): Promise<{ port: number; url: string }> {
    const server = createServer((req, res) => {
      if (this.#host.handleRequest(req, res, path)) return;
      res
        .writeHead(404, { 'content-type': 'application/json' })
        .end(encodeStatus({ code: Code.NotFound, msg: codeText(Code.NotFound), cause: `drpc is served under ${path}` }));
    });
    this.#ownServer = server;
    this.attach(server, path, false);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => (server.off('error', reject), resolve()));
    });
    const addr = server.address() as AddressInfo;
    return { port: addr.port, url: `ws://${host.includes(':') ? `[${host}]` : host}:${addr.port}${path}` };
  }

  /** See Endpoint.listenTcp. */
  async listenTcp(options: { port?: number; host?: string }): Promise<TcpListener> {
    const host = this.#host;
    const listener = await listenTcp(options, {
      maxFrameSize: host.maxFrameSize,
      accepts: () => host.acceptsTcp(),
      serve: (t) => void host.serve(t, { proto: host.tcpProto() }),
      closed: (l) => this.#tcpServers.delete(l),
    });
    this.#tcpServers.add(listener);
    return listener;
  }

  /** Stops accepting: detaches from every server, closes its own server and the TCP listeners. */
  async close(): Promise<void> {
    for (const a of this.#attached.splice(0)) a.off();
    this.#wss.close();
    const own = this.#ownServer;
    if (own) {
      own.closeAllConnections?.();
      await new Promise<void>((r) => own.close(() => r()));
    }
    await Promise.all([...this.#tcpServers].map((l) => l.close()));
  }

  async #upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, url: URL): Promise<void> {
    // http drops its socket error listener on upgrade and ws adds its own only in handleUpgrade: a peer
    // that resets the connection while verifyUpgrade runs must not crash the process.
    socket.on('error', ignoreError); // module-level: a closure here would keep `req` alive per connection
    try {
      await this.#host.admit(req, url);
    } catch (err) {
      return rejectUpgrade(socket, err);
    }
    if (socket.destroyed) return;
    this.#wss.handleUpgrade(req, socket, head, (ws) => {
      socket.off('error', ignoreError); // the transport reports errors from here on
      this.#accept(ws, req, url.searchParams.get(HELLO_QUERY));
    });
  }

  #accept(ws: WebSocket, req: IncomingMessage, hello: string | null): void {
    // join() makes a flat string; a template literal would keep a rope of parts per connection.
    const transport = new NodeWebSocketTransport(ws, ['ws://', req.socket.remoteAddress, ':', req.socket.remotePort].join(''));
    void this.#host.serve(transport, hello === null ? {} : { hello: true, clientId: clientIdOf(hello) });
  }
}
