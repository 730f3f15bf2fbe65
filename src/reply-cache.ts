/**
 * Replies of calls that carry an identity, kept so that a call re-sent after a reconnect is answered
 * from here instead of running its handler twice (exactly-once effect). Per client (the id it dials
 * with), shared by all of that client's connections: a copy that arrives on a new connection while
 * the old one is still open on our side (half-open) attaches to the running original just the same.
 *
 * A client acknowledges with every call the numbers below which all its calls have settled (meta
 * `_k`), so replies are dropped as soon as they cannot be asked for again: the cache holds about the
 * calls in flight, and entries die young (no garbage-collector cost under load). Bounds for clients
 * that do not acknowledge: entries per client, entry age, idle clients kept, and the bytes of every
 * client's replies together (a reply that does not fit is not kept: its call could run again).
 */
import type { Clock } from './clock.ts';
import { ClientReplies, type ReplyLimits, type ReplyStore } from './client-replies.ts';

export {
  ClientReplies,
  type CachedReply,
  type ClientHandOff,
  type ReplyStore,
  type RunningCall,
  type StoredCalls,
} from './client-replies.ts';

export interface ReplyCacheOptions {
  /** Unacknowledged replies kept per client at most; the oldest go first. Default 4096. */
  maxEntries?: number;
  /** How long a reply is kept, and a disconnected client's replies, in ms (the clients' resume window). Default 60000. */
  maxAgeMs?: number;
  /** Disconnected clients whose replies are kept at most; the longest gone are forgotten first. Default 10000. */
  maxClients?: number;
  /**
   * Reply bodies kept by all clients together, in bytes. Over it, a client's new reply pushes out its
   * own oldest ones, and disconnected clients are forgotten, longest gone first. Default 64 MiB.
   */
  maxBytes?: number;
}

/** The endpoint's reply cache: one ClientReplies per client id. */
export class ReplyCache {
  readonly #clients = new Map<string, ClientReplies>();
  /** Records no connection uses, in the order they were released (oldest first). */
  readonly #idle = new Map<string, ClientReplies>();
  readonly #limits: ReplyLimits;
  readonly #maxClients: number;

  constructor(
    private readonly clock: Clock,
    options: ReplyCacheOptions = {},
    /** Where calls are also recorded for other nodes (a broker's `replies`). */
    readonly store?: ReplyStore,
  ) {
    this.#limits = {
      clock,
      store,
      max: options.maxEntries ?? 4096,
      maxAge: options.maxAgeMs ?? 60_000,
      maxBytes: options.maxBytes ?? 64 * 1024 * 1024,
      bytes: 0,
      versions: new WeakMap(),
      makeRoom: () => this.#prune(),
    };
    this.#maxClients = options.maxClients ?? 10_000;
  }

  /** How long a reply is kept, in ms. */
  get maxAgeMs(): number {
    return this.#limits.maxAge;
  }

  /** Reply body bytes held now, all clients together. */
  get bytes(): number {
    return this.#limits.bytes;
  }

  /** Clients with a record (connected, or gone for less than maxAgeMs). */
  get clients(): number {
    return this.#clients.size;
  }

  /** The record of client `id` for a new connection; `release` it when that connection closes. */
  acquire(id: string): ClientReplies {
    this.#prune();
    let r = this.#clients.get(id);
    if (!r) this.#clients.set(id, (r = new ClientReplies(id, this.#limits)));
    this.#idle.delete(id);
    r.refs++;
    return r;
  }

  /** Client `id`'s record, if this node has one (a connection uses it, or it is kept after one closed). */
  peek(id: string): ClientReplies | undefined {
    return this.#clients.get(id);
  }

  /** `connection` (a session) belongs to the client's claim `version` (scale-out: see ClientReplies.latest). */
  claimedBy(connection: object, version: number): void {
    this.#limits.versions.set(connection, version);
  }

  /**
   * Client `id` moved to another node with its claim `version`, and that node took its record
   * (`handOff`): its replies are forgotten here once no connection uses them, but the record stays
   * until it ages out, so that a call still on its way here on a connection of an older claim is
   * refused, not run.
   */
  movedAway(id: string, version: number): void {
    let r = this.#clients.get(id);
    // Even with nothing here yet: a first call may still be on its way on the client's old connection.
    if (!r) this.#clients.set(id, (r = new ClientReplies(id, this.#limits)));
    if (version > r.latest) r.latest = version;
    if (r.refs > 0 || r.busy) return; // its running calls still count their replies here
    r.forget();
    r.releasedAt = this.clock.now();
    this.#idle.delete(id);
    this.#idle.set(id, r);
  }

  release(r: ClientReplies): void {
    if (--r.refs > 0 || this.#clients.get(r.id) !== r) return;
    r.releasedAt = this.clock.now();
    this.#idle.set(r.id, r);
    this.#prune();
  }

  #prune(): void {
    const oldest = this.clock.now() - this.#limits.maxAge;
    const limits = this.#limits;
    for (const [id, r] of this.#idle) {
      if (r.releasedAt >= oldest && this.#idle.size <= this.#maxClients && limits.bytes <= limits.maxBytes) break;
      this.#idle.delete(id);
      this.#clients.delete(id);
      r.forget();
    }
  }
}
