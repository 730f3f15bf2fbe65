/**
 * Settling an outbound CALL from its REPLY: the status decides, then the body is decoded with the
 * reply's codec, with drpc's afterReadReplyHeader / afterReadReplyBody hooks around it.
 */
import { runHook } from './hooks.ts';
import type { Message } from './message.ts';
import type { Session } from './session.ts';
import type { Reply } from './session-types.ts';
import { Code, DrpcError } from './status.ts';

export function settleReply<T>(
  session: Session,
  reply: Message,
  valueOnly: boolean,
  resolve: (r: T | Reply<T>) => void,
  reject: (e: DrpcError) => void,
): void {
  if (!session.plugins.length) {
    // The hot path: no hooks, so no closures.
    if (reply.status.code !== 0) return reject(DrpcError.fromStatus(reply.status));
    let value: T;
    try {
      value = session.decodeBody(reply) as T;
    } catch (err) {
      return reject(DrpcError.from(err, Code.BadMessage));
    }
    return resolve(valueOnly ? value : { value, meta: reply.meta, bodyCodec: reply.bodyCodec, status: reply.status });
  }
  const fail = (e: unknown): void => reject(DrpcError.from(e));
  const done = (): void => {
    if (reply.status.code !== 0) return reject(DrpcError.fromStatus(reply.status));
    let value: unknown;
    try {
      value = session.decodeBody(reply);
    } catch (err) {
      return reject(DrpcError.from(err, Code.BadMessage));
    }
    const ctx = { session, message: reply, body: value };
    const after = runHook(session.plugins, 'afterReadReplyBody', ctx);
    const ok = () =>
      resolve(valueOnly ? (ctx.body as T) : { value: ctx.body as T, meta: reply.meta, bodyCodec: reply.bodyCodec, status: reply.status });
    if (after) after.then(ok, fail);
    else ok();
  };
  try {
    const out = runHook(session.plugins, 'afterReadReplyHeader', { session, message: reply });
    if (out) out.then(done, fail);
    else done();
  } catch (err) {
    fail(err);
  }
}
