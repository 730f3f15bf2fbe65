/**
 * Plugins: hook points along a message's life, named after drpc's where they match. A hook may be
 * sync or async; throwing (or rejecting with) a DrpcError has drpc's effect for that hook:
 * - beforeWriteCall / beforeWritePush: the call or push fails locally with that status;
 * - afterReadCallHeader / afterReadCallBody: an error REPLY with that status, handler skipped;
 * - afterReadPushHeader / afterReadPushBody: the push handler is skipped;
 * - afterReadReplyHeader / afterReadReplyBody: the status becomes the call's result;
 * - the others: reported to the session's `onError` only.
 */
import type { Message } from './message.ts';
import type { Session } from './session.ts';
import { DrpcError } from './status.ts';

export interface HookContext {
  readonly session: Session;
  /** The message being written or read (body bytes are empty on header hooks of inbound messages). */
  readonly message: Message;
  /** The decoded body, on *Body hooks and before writes. */
  body?: unknown;
}

type Hook = (ctx: HookContext) => void | Promise<void>;

export interface Plugin {
  readonly name: string;
  beforeWriteCall?: Hook;
  afterWriteCall?: Hook;
  beforeWritePush?: Hook;
  afterWritePush?: Hook;
  afterReadCallHeader?: Hook;
  afterReadCallBody?: Hook;
  beforeWriteReply?: Hook;
  afterWriteReply?: Hook;
  afterReadPushHeader?: Hook;
  afterReadPushBody?: Hook;
  afterReadReplyHeader?: Hook;
  afterReadReplyBody?: Hook;
  /** After the transport is gone and every pending call is settled. */
  afterDisconnect?: (session: Session, reason: string) => void | Promise<void>;
}

export type HookName = Exclude<keyof Plugin, 'name' | 'afterDisconnect'>;

/** Runs one hook across plugins in order; stops at the first throw. Sync when every hook is. */
export function runHook(plugins: readonly Plugin[], name: HookName, ctx: HookContext): void | Promise<void> {
  for (let i = 0; i < plugins.length; i++) {
    const hook = plugins[i]![name];
    if (!hook) continue;
    const out = hook(ctx);
    if (out instanceof Promise) return out.then(() => runHook(plugins.slice(i + 1), name, ctx));
  }
}

/** Writes a CALL or PUSH with its before hook (its error fails the write) and its after hook (errors only reported). */
export async function writeWithHooks(session: Session, m: Message, before: HookName, after: HookName, body: unknown): Promise<void> {
  await runHook(session.plugins, before, { session, message: m, body });
  await session.writeMessage(m);
  reportHook(session, after, m, body);
}

/** Runs a hook whose errors only get reported. */
function reportHook(session: Session, name: HookName, message: Message, body?: unknown): void {
  try {
    const out = runHook(session.plugins, name, { session, message, body });
    if (out) out.catch((err) => session.reportError(DrpcError.from(err)));
  } catch (err) {
    session.reportError(DrpcError.from(err));
  }
}

/** Tells every plugin the session is gone; their errors are only reported. */
export function afterDisconnect(session: Session, reason: string): void {
  for (const p of session.plugins) {
    if (!p.afterDisconnect) continue;
    try {
      Promise.resolve(p.afterDisconnect(session, reason)).catch((e) => session.reportError(DrpcError.from(e)));
    } catch (e) {
      session.reportError(DrpcError.from(e));
    }
  }
}
