/** A plain TCP listener whose connections an endpoint serves (RAW frames, DMicro's default transport). */
import { createServer, type AddressInfo } from 'node:net';
import { NodeTcpTransport } from './tcp.ts';

export interface TcpListener {
  readonly port: number;
  /** Stops listening and drops the connections it accepted (once; later calls get the same promise). */
  close(): Promise<void>;
}

export interface TcpHost {
  maxFrameSize?: number;
  /** Whether a new connection may be served now (not closing, under maxConnections). */
  accepts(): boolean;
  serve(transport: NodeTcpTransport): void;
  /** The listener closed: forget it. */
  closed(listener: TcpListener): void;
}

export async function listenTcp({ port = 0, host = '127.0.0.1' }: { port?: number; host?: string }, h: TcpHost): Promise<TcpListener> {
  const accepted = new Set<NodeTcpTransport>();
  const server = createServer((socket) => {
    socket.on('error', () => {}); // the transport reports errors once it owns the socket
    if (!h.accepts()) return void socket.destroy();
    const transport = new NodeTcpTransport(socket, { maxFrameSize: h.maxFrameSize });
    accepted.add(transport);
    socket.once('close', () => accepted.delete(transport));
    h.serve(transport);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => (server.off('error', reject), resolve()));
  });
  let closing: Promise<void> | undefined;
  const listener: TcpListener = {
    port: (server.address() as AddressInfo).port,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        h.closed(listener);
        server.close(() => resolve());
        for (const t of accepted) t.close('tcp listener closed');
      })),
  };
  return listener;
}
