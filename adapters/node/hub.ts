/** The endpoint's sessions by id (drpc's session hub: GetSession, RangeSession, CountSession). */
import type { Session } from '../../src/session.ts';
import type { Status } from '../../src/status.ts';

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
