/** Named groups of sessions (rooms), for pushes to a group; a closed session leaves all its rooms. */
import type { Session } from '../../src/session.ts';

const NONE: ReadonlySet<Session> = new Set();

export class Rooms {
  readonly #rooms = new Map<string, Set<Session>>();
  readonly #bySession = new Map<Session, Set<string>>();

  join(session: Session, room: string): void {
    if (session.state === 'closed') return;
    let members = this.#rooms.get(room);
    if (!members) this.#rooms.set(room, (members = new Set()));
    members.add(session);
    let mine = this.#bySession.get(session);
    if (!mine) this.#bySession.set(session, (mine = new Set()));
    mine.add(room);
  }

  leave(session: Session, room: string): void {
    const members = this.#rooms.get(room);
    members?.delete(session);
    if (members?.size === 0) this.#rooms.delete(room);
    this.#bySession.get(session)?.delete(room);
  }

  /** The sessions in `room` (empty when nobody is). */
  members(room: string): ReadonlySet<Session> {
    return this.#rooms.get(room) ?? NONE;
  }

  /** The rooms `session` is in. */
  of(session: Session): string[] {
    return [...(this.#bySession.get(session) ?? [])];
  }

  sessionClosed(session: Session): void {
    for (const room of this.#bySession.get(session) ?? []) this.leave(session, room);
    this.#bySession.delete(session);
  }
}
