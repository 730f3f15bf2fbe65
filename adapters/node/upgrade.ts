/** Admitting a new connection (WebSocket upgrade or HTTP session), or refusing it with an HTTP status and the drpc status JSON as body. */
import type { Duplex } from 'node:stream';
import type { EndpointOptions, UpgradeInfo } from './endpoint-options.ts';
import { Code, DrpcError, codeText, type Status } from '../../src/status.ts';
import { encodeStatus } from '../../src/wire-text.ts';

export function ignoreError(): void {}

export function refusal(http: number, code: number, cause: string): DrpcError & { http: number } {
  return Object.assign(new DrpcError(code, codeText(code), cause), { http });
}

/** Answers a refused upgrade with an HTTP status and the drpc status JSON as body (drpc answers 403). */
export function rejectUpgrade(socket: Duplex, err: unknown): void {
  const e = DrpcError.from(err, Code.Unauthorized);
  const http = (err as { http?: number }).http ?? (e.code === Code.Unauthorized ? 401 : 403);
  const body = encodeStatus(e.toStatus() as Status);
  if (!socket.writable) return void socket.destroy();
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${http} ${http === 401 ? 'Unauthorized' : http === 503 ? 'Service Unavailable' : 'Forbidden'}\r\n` +
      `Connection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

/**
 * Whether a new connection may open: not while the endpoint closes, from an allowed origin, within
 * maxConnections, and past verifyUpgrade. Throws the refusal (with its HTTP status) otherwise.
 */
export async function admit(
  o: Pick<EndpointOptions, 'origins' | 'maxConnections' | 'verifyUpgrade'>,
  now: () => { closing: boolean; connections: number },
  info: UpgradeInfo,
): Promise<void> {
  const max = o.maxConnections ?? 10_000;
  const check = () => {
    const { closing, connections } = now();
    if (closing) throw refusal(503, Code.ConnClosed, 'endpoint is shutting down');
    if (connections >= max) throw refusal(503, Code.InternalServerError, `too many connections (limit ${max})`);
  };
  const { closing } = now();
  if (closing) throw refusal(503, Code.ConnClosed, 'endpoint is shutting down');
  checkOrigin(o, info);
  check();
  if (o.verifyUpgrade) {
    await o.verifyUpgrade(info);
    check(); // again: connections accepted (or close() begun) while verifyUpgrade ran count too
  }
}

/** A request of an open HTTP session (`http.verifyEachRequest`): its origin and verifyUpgrade again; throws the refusal. */
export async function verifyRequest(o: Pick<EndpointOptions, 'origins' | 'verifyUpgrade'>, info: UpgradeInfo): Promise<void> {
  checkOrigin(o, info);
  await o.verifyUpgrade?.(info);
}

function checkOrigin(o: Pick<EndpointOptions, 'origins'>, info: UpgradeInfo): void {
  const origin = info.request.headers.origin;
  if (origin && o.origins && !o.origins.includes(origin)) throw refusal(403, Code.Unauthorized, `origin ${origin} is not allowed`);
}
