/** The endpoint's sessions by id (drpc's session hub: GetSession, RangeSession, CountSession). */
import { broadcast, type BroadcastResult } from '../../src/broadcast.ts';
import type { Session } from '../../src/session.ts';
import type { PushOptions } from '../../src/session-types.ts';
import { Code, DrpcError, codeText, type Status } from '../../src/status.ts';

export class SessionHub {
  readonly #byId = new Map<string, Session>();

  /** Adds a session; its owner calls `rename` on setId and `remove` when it closes. */
  add(session: Session): void {
    this.#byId.set(session.id, session);
  }

  rename(session: Session, id: string, previous: string): void {
    if (this.#byId.get(previous) !== session) return; // not in the hub (yet): nothing to re-key
    this.#byId.delete(previous);
    if (session.state !== 'closed') this.#byId.set(id, session);
  }

  remove(session: Session): void {
    if (this.#byId.get(session.id) === session) this.#byId.delete(session.id);
  }

  get(id: string): Session | undefined {
    return this.#byId.get(id);
  }

  /** The session itself, or the one with id `target`; rejects with 404 when there is none. */
  async require(target: Session | string): Promise<Session> {
    if (typeof target !== 'string') return target;
    const s = this.#byId.get(target);
    if (!s) throw new DrpcError(Code.NotFound, codeText(Code.NotFound), `no session ${JSON.stringify(target)}`);
    return s;
  }

  /**
   * One PUSH to `to` (sessions or ids; default every session), packed once per codec and encoding
   * (src/broadcast.ts); an id with no session counts as failed (404).
   */
  broadcast(serviceMethod: string, payload: unknown, options: PushOptions & { to?: Iterable<Session | string> } = {}): BroadcastResult {
    const to = options.to ? [...options.to].map((t) => (typeof t === 'string' ? this.#byId.get(t) : t)) : this.list();
    const known = to.filter((s): s is Session => s !== undefined);
    const result = broadcast(known, serviceMethod, payload, options);
    for (let i = to.length - known.length; i > 0; i--) {
      result.failed++;
      result.errors.push(new DrpcError(Code.NotFound, codeText(Code.NotFound), 'no such session'));
    }
    return result;
  }

  list(): Session[] {
    return [...this.#byId.values()];
  }

  get count(): number {
    return this.#byId.size;
  }

  forEach(fn: (session: Session) => void): void {
    for (const s of this.#byId.values()) fn(s);
  }

  /** Closes a session at once, telling the peer why (WebSocket close 4000 + status code). */
  kick(id: string, status: Status): boolean {
    const s = this.#byId.get(id);
    if (!s) return false;
    s.abort(status, `kicked: ${status.code} ${status.cause || status.msg}`);
    return true;
  }
}
