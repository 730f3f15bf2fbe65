/**
 * drpc: serving inbound CALLs and PUSHes on a session, the receiver half of drpc's context.go.
 * CALL: header hooks → route lookup (404) → body decode (400) → body hooks → handler → REPLY.
 * PUSH: the same without a REPLY; failures are only reported.
 * Endpoints always serve this way; a client does when given `serve: serveCalls` (see inbound.ts).
 */
import { ACCEPT_BODY_CODEC, replyCodec } from './codec/codec.ts';
import { runHook } from './hooks.ts';
import { createMessage, MType, type Message } from './message.ts';
import type { CallContext, CallHandler } from './router.ts';
import type { Session } from './session.ts';
import { RunningJobs, type Job } from './running.ts';
import { decode, deliverPush, errorReply, noCallRoute, pushContext, pushFailed, pushRoute, type Serve } from './inbound.ts';
import type { CachedReply } from './reply-cache.ts';
import { CALL_ACK_META, CANCEL_META, CANCEL_METHOD, DEADLINE_META } from './extensions.ts';
import { Code, DrpcError, OK_STATUS, type Status, codeError } from './status.ts';
import type { Meta } from './wire-text.ts';

class Ctx implements CallContext {
  readonly replyMeta: Meta = {};
  replyCodec = 0;
  constructor(
    readonly session: Session,
    readonly message: Message,
    private readonly job: Job,
  ) {}
  get serviceMethod() {
    return this.message.serviceMethod;
  }
  get seq() {
    return this.message.seq;
  }
  get meta() {
    return this.message.meta;
  }
  get bodyCodec() {
    return this.message.bodyCodec;
  }
  get signal(): AbortSignal {
    // Created on first use: most handlers never look, and an AbortController per call costs.
    const job = this.job;
    if (!job.controller) {
      job.controller = new AbortController();
      if (this.session.state === 'closed') job.controller.abort(new DrpcError(Code.ConnClosed));
    }
    return job.controller.signal;
  }
  setReplyCodec(codec: number | string): void {
    this.replyCodec = this.session.codecs.require(codec).id;
  }
}

/**
 * Serves an inbound CALL or PUSH after the handshake, run as a job of the session's `running`: counted
 * for the concurrency cap and an active close, aborted when its caller's deadline (meta `_d`) passes
 * or the caller cancels it (a PUSH to `/drpc/cancel`, which is handled here and runs nothing).
 */
export const serveCalls: Serve = (session, m) => {
  const running = (session.running ??= new RunningJobs(session.clock));
  const maxConcurrent = session.maxConcurrentCalls;
  if (m.mtype === MType.Push && m.serviceMethod === CANCEL_METHOD) {
    const seq = Number(m.meta[CANCEL_META]);
    if (!Number.isInteger(seq)) return;
    const why = new DrpcError(Code.Canceled, 'the caller canceled the call');
    running.cancel(seq, why);
    // A durable call may run as the original of an earlier connection: the client's reply cache finds it.
    session.replyCache?.cancel(seq, why);
    return;
  }
  const isCall = m.mtype === MType.Call;
  const job = running.start(isCall ? m.seq : undefined);
  const deadline = isCall ? m.meta[DEADLINE_META] : undefined;
  if (deadline !== undefined && /^\d{1,10}$/.test(deadline) && Number(deadline) > 0) {
    const ms = Number(deadline);
    running.expireAfter(job, ms, () => new DrpcError(Code.HandleTimeout, `the caller's ${ms} ms deadline for ${m.serviceMethod} passed`));
  }
  const done = () => running.finish(job);
  let p: Promise<void> | void;
  try {
    p = isCall ? serveCall(session, m, job, maxConcurrent) : servePush(session, m);
  } catch (err) {
    p = Promise.reject(err);
  }
  if (p) p.catch((err) => session.reportError(DrpcError.from(err))).then(done);
  else done();
};

function serveCall(session: Session, m: Message, job: Job, maxConcurrent: number): Promise<void> | void {
  const ctx = new Ctx(session, m, job);
  const cache = session.replyCache;
  if (cache) {
    // A client that dialed with its id: a call is known by its seq. Answered from the reply cache,
    // attached to its running original (sent before a reconnect), or run once.
    const ack = m.meta[CALL_ACK_META];
    if (ack !== undefined) cache.ack(+ack);
    const cached = cache.lookup(m.seq, (reply) => void sendCached(session, m, reply), session);
    if (cached === 'attached') return;
    if (cached) return sendCached(session, m, cached);
    job.durable = true; // its effect counts even if this connection drops: keep running
    // With a store (scale-out), the handler runs once the call is recorded there.
    const recorded = cache.begin(m.seq, job);
    if (recorded) return recorded.then(() => runCall(session, m, ctx, maxConcurrent));
  }
  return runCall(session, m, ctx, maxConcurrent);
}

function runCall(session: Session, m: Message, ctx: Ctx, maxConcurrent: number): Promise<void> | void {
  if (session.plugins.length) return serveWithHooks(session, m, ctx, maxConcurrent);
  // Without plugins a synchronous handler is answered in the same turn: no promise per call.
  let result: unknown;
  try {
    if (session.runningHandlers > maxConcurrent)
      throw new DrpcError(Code.InternalServerError, `too many concurrent calls (limit ${maxConcurrent})`);
    result = dispatch(session, m, ctx);
  } catch (err) {
    return writeReply(session, m, ctx, errorStatus(err), undefined);
  }
  if (result instanceof Promise)
    return result.then(
      (v) => writeReply(session, m, ctx, OK_STATUS, v),
      (err) => writeReply(session, m, ctx, errorStatus(err), undefined),
    );
  return writeReply(session, m, ctx, OK_STATUS, result);
}

async function serveWithHooks(session: Session, m: Message, ctx: Ctx, maxConcurrent: number): Promise<void> {
  let status: Status = OK_STATUS;
  let result: unknown;
  try {
    if (session.runningHandlers > maxConcurrent)
      throw new DrpcError(Code.InternalServerError, `too many concurrent calls (limit ${maxConcurrent})`);
    result = await handle(session, m, ctx);
  } catch (err) {
    status = errorStatus(err);
  }
  await writeReply(session, m, ctx, status, result);
}

/** Route lookup (400 for an empty method, 404 for none), body decode (400) and the handler call. */
function dispatch(session: Session, m: Message, ctx: Ctx): unknown {
  return route(session, m)(decode(session, m), ctx);
}

function route(session: Session, m: Message): CallHandler {
  if (!m.serviceMethod) throw codeError(Code.BadMessage, 'invalid service method for message');
  const handler = session.router.call(m.serviceMethod);
  if (!handler) throw noCallRoute(m);
  return handler;
}

async function handle(session: Session, m: Message, ctx: Ctx): Promise<unknown> {
  const hooks = session.plugins.length > 0;
  if (hooks) await runHook(session.plugins, 'afterReadCallHeader', { session, message: m });
  const handler = route(session, m);
  const hookCtx = { session, message: m, body: decode(session, m) };
  if (hooks) await runHook(session.plugins, 'afterReadCallBody', hookCtx);
  return handler(hookCtx.body, ctx);
}

function errorStatus(err: unknown): Status {
  if (err instanceof DrpcError) return err.toStatus();
  // A handler that throws something else is drpc's "handler panic": 500 with the panic as cause.
  return codeError(Code.InternalServerError, err).toStatus();
}

function writeReply(session: Session, call: Message, ctx: Ctx, status: Status, result: unknown): Promise<void> | void {
  const reply = buildReply(session, call, ctx, status, result);
  session.replyCache?.finish(call.seq, { status: reply.status, meta: reply.meta, bodyCodec: reply.bodyCodec, body: reply.body });
  if (session.state === 'closed') return;
  if (session.plugins.length) return writeReplyWithHooks(session, call, ctx, reply, result);
  return session.writeNow(reply)?.then(undefined, (err) => replyFailed(session, call, ctx, err));
}

async function writeReplyWithHooks(session: Session, call: Message, ctx: Ctx, reply: Message, result: unknown): Promise<void> {
  try {
    await runHook(session.plugins, 'beforeWriteReply', { session, message: reply, body: result });
    await session.writeMessage(reply);
  } catch (err) {
    return replyFailed(session, call, ctx, err);
  }
  await Promise.resolve()
    .then(() => runHook(session.plugins, 'afterWriteReply', { session, message: reply, body: result }))
    .catch((e) => session.reportError(DrpcError.from(e)));
}

/** Answers a call from a cached reply (its copy ran before, or is attached to the running original). */
function sendCached(session: Session, call: Message, r: CachedReply): Promise<void> | void {
  if (session.state === 'closed') return;
  const reply = createMessage({
    seq: call.seq,
    mtype: MType.Reply,
    status: r.status,
    meta: r.meta,
    bodyCodec: r.bodyCodec,
    body: r.body,
    pipe: call.pipe,
  });
  return session.writeNow(reply)?.catch((err) => {
    const e = DrpcError.from(err);
    if (!lostWithConnection(session, e)) session.reportError(e);
  });
}

/** A REPLY write that failed because the connection closed under it: no error (a durable call is sent again and answered again). */
function lostWithConnection(session: Session, e: DrpcError): boolean {
  return e.code === Code.ConnClosed || session.state === 'closed';
}

/** drpc answers a failed REPLY write (other than a closed connection) with a second REPLY carrying 500. */
function replyFailed(session: Session, call: Message, ctx: Ctx, err: unknown): Promise<void> | void {
  const e = DrpcError.from(err);
  if (lostWithConnection(session, e)) return;
  const status = codeError(Code.InternalServerError, `reply failed: ${e.message}`).toStatus();
  return session.writeMessage(errorReply(call, status, ctx.replyMeta)).catch((e2) => session.reportError(DrpcError.from(e2)));
}

function buildReply(session: Session, call: Message, ctx: Ctx, status: Status, result: unknown): Message {
  if (status.code !== 0) return errorReply(call, status, ctx.replyMeta);
  try {
    const id = replyCodec(session.codecs, call.bodyCodec, call.meta[ACCEPT_BODY_CODEC], ctx.replyCodec) || session.codec.id;
    const codec = session.codecs.get(id) ?? session.codec;
    const body = result instanceof Uint8Array ? result : codec.encode(result);
    return createMessage({ seq: call.seq, mtype: MType.Reply, meta: ctx.replyMeta, bodyCodec: codec.id, body, pipe: call.pipe });
  } catch (err) {
    const cause = DrpcError.from(err).message;
    return errorReply(call, codeError(Code.InternalServerError, `cannot encode the reply: ${cause}`).toStatus(), ctx.replyMeta);
  }
}

function servePush(session: Session, m: Message): Promise<void> | void {
  // Without plugins a synchronous handler runs in the same turn: no promise per push.
  return session.plugins.length ? servePushWithHooks(session, m) : deliverPush(session, m);
}

async function servePushWithHooks(session: Session, m: Message): Promise<void> {
  try {
    await runHook(session.plugins, 'afterReadPushHeader', { session, message: m });
    const handler = pushRoute(session, m);
    const hookCtx = { session, message: m, body: decode(session, m) };
    await runHook(session.plugins, 'afterReadPushBody', hookCtx);
    await handler(hookCtx.body, pushContext(session, m));
  } catch (err) {
    pushFailed(session, m, err);
  }
}
