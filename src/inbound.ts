/**
 * What a session does with an inbound CALL or PUSH after the handshake: a `Serve` function. The
 * default, `servePushes`, is the small one a browser client needs: PUSHes go to their routes (topics,
 * onPush), CALLs are answered 404 as by a peer with no such route. Serving CALLs (routes with replies,
 * deadlines, cancel, concurrency cap, plugins' read hooks) is `serveCalls` from drpc, which an
 * endpoint always uses and a client imports when the server calls it (`connect(url, { serve })`).
 */
import { CANCEL_METHOD } from './extensions.ts';
import { createMessage, MType, type Message } from './message.ts';
import type { PushContext, PushHandler } from './router.ts';
import type { Session } from './session.ts';
import { Code, DrpcError, type Status, codeError } from './status.ts';
import type { Meta } from './wire-text.ts';

export type Serve = (session: Session, m: Message) => void;

/** The default Serve: PUSHes to their routes; a CALL gets 404 (and a cancel PUSH finds nothing to cancel). */
export const servePushes: Serve = (session, m) => {
  // A cancel can only be for a CALL this side answered 404 at once: nothing runs, nothing to report.
  if (m.mtype === MType.Push) return void (m.serviceMethod === CANCEL_METHOD || deliverPush(session, m));
  session.writeNow(errorReply(m, noCallRoute(m).toStatus(), {}))?.catch((err) => session.reportError(DrpcError.from(err)));
};

/** 404 for a CALL no route serves: the same answer from a peer that serves calls and from one that serves none. */
export function noCallRoute(m: Message): DrpcError {
  return codeError(Code.NotFound, `no CALL route for ${JSON.stringify(m.serviceMethod)}`);
}

/** Runs a PUSH's handler (no plugins): failures are reported, never answered (drpc only logs them). */
export function deliverPush(session: Session, m: Message): Promise<void> | void {
  try {
    const out = pushRoute(session, m)(decode(session, m), pushContext(session, m));
    if (out instanceof Promise) return out.then(undefined, (err) => pushFailed(session, m, err));
  } catch (err) {
    pushFailed(session, m, err);
  }
}

export function pushRoute(session: Session, m: Message): PushHandler {
  const handler = session.router.push(m.serviceMethod);
  if (!handler) throw codeError(Code.NotFound, `no PUSH route for ${JSON.stringify(m.serviceMethod)} (dropped)`);
  return handler;
}

export function pushContext(session: Session, m: Message): PushContext {
  return { session, serviceMethod: m.serviceMethod, seq: m.seq, meta: m.meta, bodyCodec: m.bodyCodec };
}

/** drpc only logs a failed PUSH: nothing is sent back. */
export function pushFailed(session: Session, m: Message, err: unknown): void {
  session.reportError(
    err instanceof DrpcError ? err : new DrpcError(Code.InternalServerError, `push handler for ${m.serviceMethod} failed`, err),
  );
}

/** The body, or 400 naming why it does not decode. */
export function decode(session: Session, m: Message): unknown {
  try {
    return session.decodeBody(m);
  } catch (err) {
    throw codeError(Code.BadMessage, DrpcError.from(err, Code.BadMessage).message);
  }
}

/** drpc's error REPLY: the status, an empty body and codec 0; service method empty, pipe copied. */
export function errorReply(call: Message, status: Status, meta: Meta): Message {
  return createMessage({ seq: call.seq, mtype: MType.Reply, status, meta, bodyCodec: 0, pipe: call.pipe });
}
