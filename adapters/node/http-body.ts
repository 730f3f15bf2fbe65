/** Request bodies and failures of the HTTP routes: 4xx/5xx with the drpc status JSON as body, never a crash. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Code, DrpcError } from '../../src/status.ts';
import { encodeStatus } from '../../src/wire-text.ts';
import { refusal } from './upgrade.ts';

/** The request body, refused with 413 past `max` bytes (counted as it arrives, not from Content-Length alone). */
export function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > max) return Promise.reject(httpError(413, Code.BadMessage, `body of ${declared} bytes exceeds the ${max}-byte limit`));
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        // Drain the rest unread, so the 413 can still be answered on this connection (closed after it).
        req.removeAllListeners('data');
        req.resume();
        reject(httpError(413, Code.BadMessage, `body exceeds the ${max}-byte limit`));
      } else parts.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(parts)));
    req.on('error', reject);
  });
}

export function httpError(http: number, code: number, cause: string): DrpcError & { http: number } {
  return refusal(http, code, cause);
}

/** Any failure as an HTTP status with the drpc status JSON as body; never a crash. */
export function fail(res: ServerResponse, err: unknown): void {
  const e = DrpcError.from(err, Code.InternalServerError);
  const http = (err as { http?: number }).http ?? (e.code === Code.Unauthorized ? 401 : e.code === Code.NotFound ? 404 : 500);
  if (res.headersSent) return void res.end();
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (http === 413) headers.connection = 'close';
  res.writeHead(http, headers).end(encodeStatus(e.toStatus()));
}
