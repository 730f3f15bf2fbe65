/** Refusing a WebSocket upgrade with an HTTP status and the drpc status JSON as body. */
import type { Duplex } from 'node:stream';
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
