/**
 * Write coalescing for Node sockets: the first send of a turn corks the socket and the end of the
 * turn uncorks it, so every frame written in between leaves in one writev() instead of one syscall
 * each. Pipelined calls and fan-out bursts then cost a fraction of the syscalls; a lone call leaves
 * in the same turn, so latency is unchanged. Where there is no such socket (browsers) it does nothing.
 * No closures per connection: the state lives on the transport (`WriteBatch`).
 */
export interface Corkable {
  cork(): void;
  uncork(): void;
}

/** Per-transport state: the socket to cork (if any) and whether it is corked now. */
export interface WriteBatch {
  corkable?: Corkable;
  corked: boolean;
}

type NextTick = (fn: (b: WriteBatch) => void, b: WriteBatch) => void;
const nextTick = (globalThis as { process?: { nextTick?: NextTick } }).process?.nextTick;

/** The corkable TCP socket under a `ws` WebSocket (its private `_socket`), when there is one and the runtime can defer. */
export function corkableOf(ws: unknown): Corkable | undefined {
  const s = (ws as { _socket?: Partial<Corkable> })?._socket;
  return nextTick && s && typeof s.cork === 'function' && typeof s.uncork === 'function' ? (s as Corkable) : undefined;
}

/** Call before each write. */
export function batchWrite(b: WriteBatch): void {
  if (b.corked || !b.corkable) return;
  b.corked = true;
  b.corkable.cork();
  nextTick!(release, b);
}

function release(b: WriteBatch): void {
  b.corked = false;
  b.corkable!.uncork();
}
