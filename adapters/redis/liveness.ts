/**
 * Which nodes are alive: every node keeps a key of its own in Redis (its node channel's name), set
 * every `beatMs` to expire after three beats. A node that relays a call to a session another node
 * holds watches that node while it waits for the reply: when the key is absent at two checks in a row
 * (a node that crashed, lost its network or stopped), the wait ends with 102 instead of never (a call
 * without a timeout) or after the whole timeout. Two checks, so that a node whose first beat is still
 * on its way is not taken for dead.
 */

export interface LivenessLink {
  /** Sets `key` to expire after `ttlMs` (a failure is ignored: the broker reports a lost connection). */
  beat(key: string, ttlMs: number): Promise<unknown>;
  /** Which of `keys` exist. */
  exist(keys: string[]): Promise<boolean[]>;
  /** Deletes `key` (a node that closes says so at once). */
  forget(key: string): Promise<unknown>;
}

interface Watched {
  misses: number;
  gone: Set<() => void>;
}

export class Liveness {
  readonly #watched = new Map<string, Watched>();
  #timer?: ReturnType<typeof setInterval>;
  #checking = false;

  constructor(
    private readonly link: LivenessLink,
    /** This node's key. */
    readonly self: string,
    readonly beatMs: number,
  ) {}

  /** Starts beating (at once, then every `beatMs`). */
  start(): void {
    if (this.#timer) return;
    this.#beat();
    this.#timer = setInterval(() => {
      this.#beat();
      void this.#check();
    }, this.beatMs);
    this.#timer.unref?.();
  }

  /** Stops beating and deletes this node's key, so the nodes watching it learn at their next checks. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#watched.clear();
    await this.link.forget(this.self).catch(() => {});
  }

  /** Whether `node`'s key is there now (a node that stopped beating 3 beats ago, or closed, is not). */
  async alive(node: string): Promise<boolean> {
    return (await this.link.exist([node]))[0] === true;
  }

  /** Calls `gone` once, when `node` is taken for dead; returns the unwatch. */
  watch(node: string, gone: () => void): () => void {
    let w = this.#watched.get(node);
    if (!w) this.#watched.set(node, (w = { misses: 0, gone: new Set() }));
    const once = () => gone();
    w.gone.add(once);
    return () => {
      const now = this.#watched.get(node);
      if (now?.gone.delete(once) && !now.gone.size) this.#watched.delete(node);
    };
  }

  #beat(): void {
    this.link.beat(this.self, this.beatMs * 3).catch(() => {});
  }

  /** One check of every watched node; a check that fails (Redis away) tells nothing, so nobody is taken for dead by it. */
  async #check(): Promise<void> {
    if (this.#checking || !this.#watched.size) return;
    this.#checking = true;
    try {
      const nodes = [...this.#watched.keys()];
      const alive = await this.link.exist(nodes);
      nodes.forEach((node, i) => {
        const w = this.#watched.get(node);
        if (!w) return;
        if (alive[i]) return void (w.misses = 0);
        if (++w.misses < 2) return;
        this.#watched.delete(node);
        for (const gone of w.gone) gone();
      });
    } catch {
      // Redis is away: the broker reports that; the watch goes on.
    } finally {
      this.#checking = false;
    }
  }
}
