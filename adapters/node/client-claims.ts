/**
 * Clients claimed between nodes (scale-out, durable calls). Each connection of a client claims the
 * client on its node; the node the client was on before hands over what it holds of it (replies,
 * calls still running there), so the calls it sends again are answered, not run again.
 *
 * The broker numbers the claims of a client (one order for all nodes). A node hands a client over
 * only once its own older claims of it got their hand-offs, so what it hands on is complete: claims
 * that cross (the client on A, then B, then A again, faster than the hand-offs) lose nothing. And a
 * connection whose claim is older than one made elsewhere is one the client has left: a new call on
 * it (a frame still in its buffers) is answered 100 and not run, since its copy goes to the newer one.
 */
import type { Clock } from '../../src/clock.ts';
import type { CachedReply, ClientHandOff, ReplyCache } from '../../src/reply-cache.ts';
import { Code, codeText, type Status } from '../../src/status.ts';
import type { Broker } from './broker.ts';

/** A call that was running on a node that died: it may have taken effect, so it is not run again. */
const OUTCOME_UNKNOWN: Status = {
  code: Code.Conflict,
  msg: 'call outcome unknown',
  cause: "it was running on the client's previous node, which is gone; it may have taken effect, so it is not run again",
};

/** How long a client's node is remembered in the broker (a later connection elsewhere claims it). */
const CLIENT_NODE_TTL = 24 * 3600_000;

/** A claim of this node in progress: its version once the broker gave it, and when it ends. */
interface Claim {
  version?: number;
  known: Promise<void>;
  done: Promise<void>;
}

export class ClientClaims {
  /** This node's claims in progress, by client. */
  readonly #open = new Map<string, Set<Claim>>();
  /** Copies of calls waiting for their previous node to forward the replies: each ends its timer and watch (see #await). */
  readonly #waits = new Set<() => void>();

  constructor(
    private readonly broker: Broker,
    private readonly cache: ReplyCache,
    private readonly clock: Clock,
  ) {}

  /**
   * Client `id` connected to this node: takes what its previous node held of it. Waits at most the
   * broker's timeout, and not at all while Redis is away; copies of calls whose replies never come
   * fail with 502 after the cache's maxAgeMs. Resolves with the claim's version (for claimedBy).
   */
  async claim(id: string): Promise<number> {
    const cache = this.cache;
    let known!: () => void;
    let end!: () => void;
    const claim: Claim = { known: new Promise((r) => (known = r)), done: new Promise((r) => (end = r)) };
    const open = this.#open.get(id) ?? new Set<Claim>();
    this.#open.set(id, open.add(claim));
    try {
      let h: ClientHandOff | undefined;
      try {
        h = await this.broker.claimClient(id, CLIENT_NODE_TTL, (version) => {
          claim.version = version;
          const record = cache.acquire(id);
          if (version > record.claimed) record.claimed = version;
          cache.release(record);
          known();
        });
      } catch {
        // Redis is away (the broker reported it once): its re-sent calls may run again here
        return cache.peek(id)?.latest ?? 0;
      }
      // An older claim of this node still waiting for its hand-off brings what this one needs too (the
      // previous node of this claim was this node, or the hand-off came from a node that had less).
      await this.#older(open, claim.version);
      if (!h) await this.#recover(id);
      else {
        const record = cache.acquire(id);
        record.adopt(h);
        cache.release(record);
        if (h.running.length) this.#await(id, h.running, h.from);
      }
      return claim.version!;
    } finally {
      known();
      end();
      open.delete(claim);
      if (!open.size && this.#open.get(id) === open) this.#open.delete(id);
    }
  }

  /**
   * Another node claims client `id` with claim `version` (undefined: a node of an older release,
   * taken as the newest): what this node holds of it, once its own older claims of it got theirs.
   */
  async handOff(
    id: string,
    version: number | undefined,
    forward: (n: number, reply: CachedReply) => void,
  ): Promise<ClientHandOff | undefined> {
    await this.#older(this.#open.get(id), version);
    const cache = this.cache;
    const record = cache.peek(id);
    const newest = record?.claimed ?? 0;
    const v = version ?? newest + 0.5;
    const h = record?.handOff(forward);
    // The client left every connection it has here (a newer claim here would keep its record).
    if (v > newest) cache.movedAway(id, v);
    return h && { ...h, latest: Math.max(v, newest) };
  }

  /** Waits for the claims in `open` older than `version` (all when undefined) to end. Claims that begin later are newer. */
  async #older(open: Set<Claim> | undefined, version: number | undefined): Promise<void> {
    for (const c of [...(open ?? [])]) {
      await c.known;
      if (c.version !== undefined && (version === undefined || c.version < version)) await c.done;
    }
  }

  close(): void {
    for (const end of [...this.#waits]) end();
  }

  /**
   * Copies of calls still running on the client's previous node wait for the replies it forwards.
   * They fail with 502 after the cache's maxAgeMs; and if that node dies first (it stops beating),
   * at once: with the replies the store (keepReplies) has of them, else 409 (outcome unknown).
   */
  #await(id: string, running: readonly number[], from: string | undefined): void {
    const { clock, cache } = this;
    let unwatch: (() => void) | undefined;
    // One wait: its timer and its watch end together, whichever comes first (or close()).
    const end = () => {
      this.#waits.delete(end);
      clock.clearTimeout(timer);
      unwatch?.();
    };
    const timer = clock.setTimeout(() => {
      end();
      const why = `call ran on the client's previous node, which did not forward its reply within ${cache.maxAgeMs} ms`;
      cache.peek(id)?.abandon(running, { code: Code.BadGateway, msg: codeText(Code.BadGateway), cause: why });
    }, cache.maxAgeMs);
    if (from !== undefined)
      unwatch = this.broker.watchNode?.(from, () => {
        end();
        void this.#previousGone(id, running);
      });
    this.#waits.add(end);
  }

  async #previousGone(id: string, running: readonly number[]): Promise<void> {
    const stored = await this.cache.store?.load(id);
    this.cache.peek(id)?.abandon(running, OUTCOME_UNKNOWN, new Map(stored?.done));
  }

  /**
   * Nothing was handed over (the client is new, was here before, or its node is gone): takes what the
   * broker's store recorded of its calls. A call that began on a node that is gone and did not finish
   * there is answered 409: it may have taken effect, so it does not run again.
   */
  async #recover(id: string): Promise<void> {
    const cache = this.cache;
    const stored = await cache.store?.load(id);
    if (!stored || (!stored.done.length && !stored.running.length)) return;
    const record = cache.acquire(id);
    record.recover(stored, OUTCOME_UNKNOWN);
    cache.release(record);
  }
}
