/**
 * Write coalescing for Node sockets. The first frame a socket gets in a turn is written at once (a
 * lone call or one fan-out push pays nothing extra); a second frame in the same turn corks the
 * socket, and the end of the turn uncorks every corked socket, so a pipelined burst leaves in one
 * writev() instead of a syscall per frame. One deferred callback per turn serves every socket, and
 * the state lives on the transport (no closures per connection). Without a corkable socket
 * (browsers) it does nothing.
 */
export interface Corkable {
  cork(): void;
  uncork(): void;
}

/** Per-transport state: the socket to cork (if any) and how many frames it got this turn (2+ = corked). */
export interface WriteBatch {
  corkable?: Corkable;
  batchState: number;
}

/**
 * A corked burst is flushed every this many frames, so the peer starts working on the first ones
 * while the rest are still being produced (a whole-turn batch would make both sides take turns).
 */
const FLUSH_EVERY = 32;

type NextTick = (fn: () => void) => void;
const nextTick = (globalThis as { process?: { nextTick?: NextTick } }).process?.nextTick;

/** The corkable TCP socket under a `ws` WebSocket (its private `_socket`), when there is one and the runtime can defer. */
export function corkableOf(ws: unknown): Corkable | undefined {
  const s = (ws as { _socket?: Partial<Corkable> })?._socket;
  return nextTick && s && typeof s.cork === 'function' && typeof s.uncork === 'function' ? (s as Corkable) : undefined;
}

let touched: WriteBatch[] = [];

/** Call before each write. */
export function batchWrite(b: WriteBatch): void {
  if (!b.corkable) return;
  const n = ++b.batchState;
  if (n === 1) {
    if (touched.push(b) === 1) nextTick!(endOfTurn);
  } else if (n === 2) b.corkable.cork();
  else if (n % FLUSH_EVERY === 1) {
    b.corkable.uncork();
    b.corkable.cork();
  }
}

function endOfTurn(): void {
  const list = touched;
  touched = [];
  for (const b of list) {
    if (b.batchState >= 2) b.corkable!.uncork();
    b.batchState = 0;
  }
}
