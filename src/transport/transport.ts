/**
 * A transport moves whole frames, one drpc message per frame, in order. It knows nothing of drpc:
 * the session packs and unpacks. Each transport is one file; this is the whole contract.
 */
import type { Frame } from '../proto/proto.ts';
import { Code, DrpcError, type Status, codeError } from '../status.ts';

/** What `send` throws once the transport is closed or closing: a lost connection (102), not a write failure. */
export function closedTransport(what: string): DrpcError {
  return codeError(Code.ConnClosed, what);
}

export interface TransportHandlers {
  /** One complete frame arrived. */
  receiveFrame(frame: Frame): void;
  /** The transport is gone (either side closed or it failed). Called once. */
  transportClosed(reason: string, error?: unknown): void;
}

export interface Transport {
  /** Starts delivery to `handlers`; frames that arrived earlier are delivered first. Called once. */
  listen(handlers: TransportHandlers): void;
  /** Queues one frame. Throws if the transport is already closed. */
  send(frame: Frame): void;
  /**
   * Closes; `handlers.transportClosed` then fires once (if it has not already). A status, when given, tells the
   * peer why where the transport can (WebSocket: close code 4000 + status code).
   */
  close(reason?: string, status?: Status): void;
  /** Bytes queued but not yet written, where the transport can tell (0 otherwise). */
  readonly bufferedAmount: number;
  /** Where the other side is, for logs and session ids (e.g. "ws://127.0.0.1:53211"). */
  readonly remoteAddress: string;
  /** What carries the frames, e.g. 'websocket', 'http' (the fallback), 'tcp', 'memory'. */
  readonly kind?: string;
}

/**
 * Frames a server transport keeps before its session listens (the endpoint may first wait for the
 * client's previous node, up to the broker's timeout): at this many it stops reading the socket, so
 * the peer waits (TCP flow control) instead of filling memory; listen() reads on.
 */
export const EARLY_FRAMES = 64;

/**
 * Starts delivery to `handlers` (Transport.listen): the frames that arrived before, then the close
 * if it already happened (`closed`: its reason and error).
 */
export function startListening(
  handlers: TransportHandlers,
  early: readonly Frame[] | undefined,
  closed?: { reason: string; error?: unknown },
): void {
  if (early) for (const f of early) handlers.receiveFrame(f);
  if (closed) handlers.transportClosed(closed.reason, closed.error);
}
