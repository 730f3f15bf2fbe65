/**
 * Routes for inbound CALLs and PUSHes, by exact service method (drpc matches exactly and is
 * case-sensitive). Sessions of one endpoint share one router; a client session has its own.
 */
import type { Meta } from './wire-text.ts';
import { badMessage, show } from './status.ts';
import type { Session } from './session.ts';

export interface PushContext {
  readonly session: Session;
  readonly serviceMethod: string;
  readonly seq: number;
  /** The message's meta (read-only by convention). */
  readonly meta: Meta;
  readonly bodyCodec: number;
}

export interface CallContext extends PushContext {
  /** Meta to send back on the REPLY. */
  readonly replyMeta: Meta;
  /** Aborted when the session closes while the handler runs. */
  readonly signal: AbortSignal;
  /** Chooses the REPLY's body codec (by id or name); otherwise drpc's rule applies. */
  setReplyCodec(codec: number | string): void;
}

export type CallHandler = (body: unknown, ctx: CallContext) => unknown;
export type PushHandler = (body: unknown, ctx: PushContext) => unknown;

export class Router {
  readonly #calls = new Map<string, CallHandler>();
  readonly #pushes = new Map<string, PushHandler>();
  #unknownCall?: CallHandler;
  #unknownPush?: PushHandler;

  /** Serves CALLs to `serviceMethod`; the handler's return value is the REPLY body, a thrown DrpcError its status. */
  route(serviceMethod: string, handler: CallHandler): this {
    this.#calls.set(checked(serviceMethod, handler), handler);
    return this;
  }

  /** Serves PUSHes to `serviceMethod` (never replied; errors go to the session's `onError`). */
  routePush(serviceMethod: string, handler: PushHandler): this {
    this.#pushes.set(checked(serviceMethod, handler), handler);
    return this;
  }

  /** drpc's SetUnknownCall: serves CALLs no route matches (instead of 404). */
  setUnknownCall(handler: CallHandler | undefined): this {
    this.#unknownCall = handler;
    return this;
  }

  /** drpc's SetUnknownPush: serves PUSHes no route matches (instead of dropping them). */
  setUnknownPush(handler: PushHandler | undefined): this {
    this.#unknownPush = handler;
    return this;
  }

  /** Removes the PUSH route only (a CALL route of the same name stays). */
  unroutePush(serviceMethod: string): this {
    this.#pushes.delete(serviceMethod);
    return this;
  }

  unroute(serviceMethod: string): this {
    this.#calls.delete(serviceMethod);
    this.#pushes.delete(serviceMethod);
    return this;
  }

  call(serviceMethod: string): CallHandler | undefined {
    return this.#calls.get(serviceMethod) ?? this.#unknownCall;
  }

  push(serviceMethod: string): PushHandler | undefined {
    return this.#pushes.get(serviceMethod) ?? this.#unknownPush;
  }

  /** Registered CALL route names (drpc's registry plugin lists these). */
  get callRoutes(): string[] {
    return [...this.#calls.keys()];
  }

  get pushRoutes(): string[] {
    return [...this.#pushes.keys()];
  }
}

function checked(serviceMethod: string, handler: unknown): string {
  if (typeof serviceMethod !== 'string' || serviceMethod === '' || typeof handler !== 'function')
    throw badMessage(`a route needs a non-empty service method and a handler function, got ${show(serviceMethod)}`);
  return serviceMethod;
}
