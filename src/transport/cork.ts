/**
 * Write coalescing for Node sockets: the first send of a turn corks the socket and the end of the
 * turn uncorks it, so every frame written in between leaves in one writev() instead of one syscall
 * each. Pipelined calls and fan-out bursts then cost a fraction of the syscalls; a lone call leaves
 * in the same turn, so latency is unchanged. Where there is no such socket (browsers) it does nothing.
 */
interface Corkable {
  cork(): void;
  uncork(): void;
}

type Defer = (fn: () => void) => void;

const defer: Defer = (globalThis as { process?: { nextTick?: Defer } }).process?.nextTick ?? queueMicrotask;

/** Returns the function to call before each write on `socket` (a no-op when it cannot be corked). */
export function writeBatcher(socket: unknown): () => void {
  const s = socket as Partial<Corkable> | undefined;
  if (!s || typeof s.cork !== 'function' || typeof s.uncork !== 'function') return () => {};
  const sock = s as Corkable;
  let corked = false;
  const release = () => {
    corked = false;
    sock.uncork();
  };
  return () => {
    if (corked) return;
    corked = true;
    sock.cork();
    defer(release);
  };
}

/** The TCP socket under a `ws` WebSocket (its private `_socket`), when there is one. */
export function socketOf(ws: unknown): unknown {
  return (ws as { _socket?: unknown })?._socket;
}
