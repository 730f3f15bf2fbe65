/**
 * drpc's auth plugin: AUTH_CALL / AUTH_REPLY as the first exchange of a session, both sides in the
 * "preparing" state. The caller sends its payload; the checker answers with a body or a status.
 */
import { MType } from './message.ts';
import type { Session } from './session.ts';
import { Code, DrpcError, isOK, OK_STATUS, codeError } from './status.ts';

/** Caller side: sends AUTH_CALL with `payload`, resolves with the AUTH_REPLY body, rejects 401. */
export async function authenticate(session: Session, payload: unknown, timeout: number): Promise<unknown> {
  await session.earlySend({ mtype: MType.AuthCall }, payload);
  // A dropped connection or a timeout here is not a rejection: the caller may simply redial.
  const reply = await session.earlyReceive(timeout);
  if (reply.mtype !== MType.AuthReply)
    throw codeError(Code.Unauthorized, `auth message(1st) expect: AUTH_REPLY, but received: ${reply.mtype}`);
  if (!isOK(reply.status)) throw DrpcError.fromStatus(reply.status);
  return session.decodeBody(reply);
}

export type AuthChecker = (payload: unknown, session: Session) => unknown;

/**
 * Checker side: receives the AUTH_CALL, runs `check`, answers AUTH_REPLY. A thrown DrpcError is sent
 * as the reply status (other errors as 401 with their message) and rethrown so the caller closes.
 */
export async function acceptAuth(session: Session, check: AuthChecker, timeout: number): Promise<unknown> {
  const call = await session.earlyReceive(timeout).catch((err: DrpcError) => {
    throw codeError(Code.Unauthorized, `no AUTH_CALL: ${err.causeText || err.message}`);
  });
  let result: unknown;
  let failure: DrpcError | undefined;
  try {
    if (call.mtype !== MType.AuthCall)
      throw codeError(Code.Unauthorized, `auth message(1st) expect: AUTH_CALL, but received: ${call.mtype}`);
    result = await check(session.decodeBody(call), session);
  } catch (err) {
    failure = err instanceof DrpcError ? err : codeError(Code.Unauthorized, err);
  }
  await session
    .earlySend(
      { mtype: MType.AuthReply, status: failure?.toStatus() ?? OK_STATUS, bodyCodec: call.bodyCodec || undefined },
      failure ? undefined : result,
    )
    .catch(() => {});
  if (failure) throw failure;
  return result;
}
