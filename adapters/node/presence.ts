/**
 * Who is connected: the sessions of every node behind a broker (each node answers for its own), or
 * of this node without one. Socket.IO's `fetchSockets()` and Centrifugo's presence, in drpc's words.
 */
import type { Session } from '../../src/session.ts';
import { Code, codeError } from '../../src/status.ts';
import type { SessionHub } from './hub.ts';
import type { Rooms } from './rooms.ts';

/** A session as presence reports it. */
export interface PresentSession {
  id: string;
  /** The rooms it is in. */
  rooms: string[];
  /** The `session.data` entries asked for with `fields` (absent ones left out); only when asked. */
  data?: Record<string, unknown>;
}

export interface Presence {
  sessions: PresentSession[];
  /** Nodes that did not answer within `waitMs` (their sessions are not in the list); 0 without a broker. */
  missing: number;
}

export interface PresenceOptions {
  /** Only the sessions in this room. Default: every session. */
  room?: string;
  /** How long to wait for the other nodes' answers, in ms (a broker only). Default 5000. */
  waitMs?: number;
  /** `session.data` keys to report with each session (e.g. the user's name); with a broker their values travel as JSON. Default: none. */
  fields?: string[];
}

/** The request a node sends every node for presence: [tag, room, fields]. */
export type PresenceRequest = ['presence', string | null, string[] | null];

/** This node's sessions (in `room`, when given), open ones only, with their `fields` of `session.data`. */
export function presenceHere(sessions: SessionHub, rooms: Rooms, room?: string, fields?: readonly string[]): PresentSession[] {
  const members: Iterable<Session> = room === undefined ? sessions.list() : rooms.members(room);
  const present: PresentSession[] = [];
  for (const s of members) {
    if (s.state === 'closed') continue;
    const p: PresentSession = { id: s.id, rooms: rooms.of(s) };
    if (fields) p.data = Object.fromEntries(fields.filter((f) => s.data.has(f)).map((f) => [f, s.data.get(f)]));
    present.push(p);
  }
  return present;
}

/** Checks presence options: a 400 naming the bad one. */
export function checkPresence(options: PresenceOptions): void {
  const { room, waitMs, fields } = options;
  if (room !== undefined && (typeof room !== 'string' || room === ''))
    throw codeError(Code.BadMessage, `presence: room must be a non-empty string, got ${JSON.stringify(room)}`);
  if (waitMs !== undefined && !(typeof waitMs === 'number' && waitMs >= 0 && waitMs !== Infinity))
    throw codeError(Code.BadMessage, `presence: waitMs must be a number of ms ≥ 0, got ${String(waitMs)}`);
  if (fields !== undefined && !(Array.isArray(fields) && fields.every((f) => typeof f === 'string')))
    throw codeError(Code.BadMessage, `presence: fields must be a list of session.data keys, got ${JSON.stringify(fields)}`);
}

/** A node's answer to another node's presence request; anything else is a 400. */
export function answerPresence(request: unknown, sessions: SessionHub, rooms: Rooms): PresentSession[] {
  const r = request as PresenceRequest;
  if (!Array.isArray(r) || r[0] !== 'presence' || r.length !== 3)
    throw codeError(Code.BadMessage, `not a request this node answers: ${JSON.stringify(request)}`);
  return presenceHere(sessions, rooms, r[1] ?? undefined, r[2] ?? undefined);
}
