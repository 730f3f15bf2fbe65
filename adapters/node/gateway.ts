/**
 * The HTTP gateway (drpc's and easymicro's idea): `POST <path>/<service/method>` with a body calls
 * that route once, with no session to open first, so curl or any HTTP client can call it:
 *   curl -X POST http://host/rpc/math/add -H 'Content-Type: application/json' -d '{"a":1,"b":2}'
 * Mapped as drpc's HTTP proto does: codec from Content-Type, the query string and X-Meta (a JSON
 * object) as meta, X-MType 1 (CALL, the default) and X-Seq echoed on the REPLY (X-MType 2); REPLY 200
 * with the body (X-Meta with the reply meta), or 299 with the status JSON.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { CodecId, codecs as defaultCodecs } from '../../src/codec/codec.ts';
import { Session } from '../../src/session.ts';
import { serveCalls } from '../../src/serve.ts';
import type { SessionOptions } from '../../src/session-types.ts';
import { Code, DrpcError, codeText } from '../../src/status.ts';
import { memoryPair } from '../../src/transport/memory.ts';
import { decodeMeta, encodeMeta, encodeStatus, type Meta } from '../../src/wire-text.ts';
import { readBody } from './http-body.ts';

export interface GatewayContext {
  /** Options of the endpoint's sessions (router, codecs, plugins …). */
  sessionOptions(): SessionOptions;
  /** The endpoint authenticates sessions (AUTH_CALL): the gateway has no handshake for it. */
  readonly auth: boolean;
  readonly timeout: number;
}

const TYPES: Record<string, number> = {
  'application/json': CodecId.Json,
  'text/plain': CodecId.Plain,
  'application/x-protobuf': CodecId.Protobuf,
  'application/protobuf': CodecId.Protobuf,
  'application/octet-stream': CodecId.Bytes,
  'application/msgpack': CodecId.Msgpack,
  'application/x-msgpack': CodecId.Msgpack,
};
const TYPE_OF = new Map(Object.entries(TYPES).map(([t, id]) => [id, t]));

export async function gatewayCall(
  ctx: GatewayContext,
  req: IncomingMessage,
  res: ServerResponse,
  serviceMethod: string,
  maxBody: number,
): Promise<void> {
  if (ctx.auth)
    return businessError(
      res,
      new DrpcError(
        Code.Unauthorized,
        codeText(Code.Unauthorized),
        'this endpoint authenticates sessions: the HTTP gateway cannot call it',
      ),
    );
  const body = await readBody(req, maxBody);
  const type = String(req.headers['content-type'] ?? 'application/json')
    .split(';')[0]!
    .trim()
    .toLowerCase();
  const codecId = TYPES[type];
  const options = ctx.sessionOptions();
  const codecs = options.codecs ?? defaultCodecs;
  if (codecId === undefined || !codecs.get(codecId))
    return businessError(
      res,
      new DrpcError(Code.BadMessage, codeText(Code.BadMessage), `unsupported Content-Type ${JSON.stringify(type)}`),
    );
  const mtype = String(req.headers['x-mtype'] ?? '1');
  if (mtype !== '1')
    return businessError(
      res,
      new DrpcError(Code.BadMessage, codeText(Code.BadMessage), `X-MType ${JSON.stringify(mtype)}: the gateway takes CALLs (1)`),
    );
  let meta: Meta;
  try {
    meta = metaOf(req);
  } catch (err) {
    return businessError(res, DrpcError.from(err, Code.BadMessage));
  }
  const [near, far] = memoryPair(['gateway:caller', `http://${req.socket.remoteAddress}:${req.socket.remotePort}`]);
  const server = new Session(far, { serve: serveCalls, ...options });
  const caller = new Session(near, { codecs, timeout: ctx.timeout, onError: () => {} });
  // The response closed before it was written: the HTTP client went away, so the handler's signal fires.
  res.once('close', () => {
    if (!res.writableFinished) server.abort({ code: Code.ConnClosed, msg: codeText(Code.ConnClosed), cause: 'the HTTP client went away' });
  });
  try {
    const reply = await caller.callReply(serviceMethod, new Uint8Array(body.buffer, body.byteOffset, body.length), {
      meta,
      codec: codecId,
    });
    const codec = codecs.get(reply.bodyCodec);
    const out = reply.value instanceof Uint8Array ? reply.value : codec ? codec.encode(reply.value) : new Uint8Array();
    const headers: Record<string, string> = {
      'content-type': TYPE_OF.get(reply.bodyCodec) ?? 'application/octet-stream',
      ...replyHeads(req),
    };
    if (Object.keys(reply.meta).length) headers['x-meta'] = encodeMeta(reply.meta);
    res.writeHead(200, headers).end(out);
  } catch (err) {
    businessError(res, DrpcError.from(err), replyHeads(req));
  } finally {
    void caller.close('gateway call done');
    void server.close('gateway call done');
  }
}

function metaOf(req: IncomingMessage): Meta {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const meta: Meta = {};
  for (const [k, v] of url.searchParams) meta[k] = v;
  const header = req.headers['x-meta'];
  if (typeof header === 'string') Object.assign(meta, decodeMeta(header));
  return meta;
}

/** drpc's HTTP proto: the REPLY says X-MType 2 and echoes the call's X-Seq. */
function replyHeads(req: IncomingMessage): Record<string, string> {
  const seq = req.headers['x-seq'];
  return typeof seq === 'string' ? { 'x-mtype': '2', 'x-seq': seq } : { 'x-mtype': '2' };
}

/** drpc's HTTP proto: a REPLY with a non-OK status is HTTP 299 with the status JSON as body. */
function businessError(res: ServerResponse, e: DrpcError, heads: Record<string, string> = {}): void {
  if (res.headersSent) return void res.end();
  res.writeHead(299, 'Business Error', { 'content-type': 'application/json', ...heads }).end(encodeStatus(e.toStatus()));
}
