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
  /** Only the sessions subscribed to this topic (a chat room's topic, say; with `room`, both hold). Default: any. */
  topic?: string;
  /** How long to wait for the other nodes' answers, in ms (a broker only). Default 5000. */
  waitMs?: number;
  /** `session.data` keys to report with each session (e.g. the user's name); with a broker their values travel as JSON. Default: none. */
  fields?: string[];
}

/** The request a node sends every node for presence: [tag, room, fields, topic] (a node before `topic` sent three). */
export type PresenceRequest = ['presence', string | null, string[] | null, (string | null)?];

/** Where a node finds its sessions, their rooms and their topics. */
export interface PresenceSources {
  readonly sessions: SessionHub;
  readonly rooms: Rooms;
  readonly topics: { get(name: string): { readonly subscribers: ReadonlySet<Session> } | undefined };
}

/** This node's sessions (in `room`, subscribed to `topic`, when given), open ones only, with their `fields` of `session.data`. */
export function presenceHere(
  { sessions, rooms, topics }: PresenceSources,
  { room, topic, fields }: Pick<PresenceOptions, 'room' | 'topic' | 'fields'>,
): PresentSession[] {
  const members: Iterable<Session> = room === undefined ? sessions.list() : rooms.members(room);
  const subscribers = topic === undefined ? undefined : (topics.get(topic)?.subscribers ?? new Set<Session>());
  const present: PresentSession[] = [];
  for (const s of members) {
    if (s.state === 'closed' || (subscribers && !subscribers.has(s))) continue;
    const p: PresentSession = { id: s.id, rooms: rooms.of(s) };
    if (fields) p.data = Object.fromEntries(fields.filter((f) => s.data.has(f)).map((f) => [f, s.data.get(f)]));
    present.push(p);
  }
  return present;
}

/** Checks presence options: a 400 naming the bad one. */
export function checkPresence(options: PresenceOptions): void {
  const { room, topic, waitMs, fields } = options;
  for (const [name, v] of [
    ['room', room],
    ['topic', topic],
  ] as const)
    if (v !== undefined && (typeof v !== 'string' || v === ''))
      throw codeError(Code.BadMessage, `presence: ${name} must be a non-empty string, got ${JSON.stringify(v)}`);
  if (waitMs !== undefined && !(typeof waitMs === 'number' && waitMs >= 0 && waitMs !== Infinity))
    throw codeError(Code.BadMessage, `presence: waitMs must be a number of ms ≥ 0, got ${String(waitMs)}`);
  if (fields !== undefined && !(Array.isArray(fields) && fields.every((f) => typeof f === 'string')))
    throw codeError(Code.BadMessage, `presence: fields must be a list of session.data keys, got ${JSON.stringify(fields)}`);
}

/** A node's answer to another node's presence request; anything else is a 400. */
export function answerPresence(request: unknown, here: PresenceSources): PresentSession[] {
  const r = request as PresenceRequest;
  if (!Array.isArray(r) || r[0] !== 'presence' || (r.length !== 3 && r.length !== 4))
    throw codeError(Code.BadMessage, `not a request this node answers: ${JSON.stringify(request)}`);
  return presenceHere(here, { room: r[1] ?? undefined, fields: r[2] ?? undefined, topic: r[3] ?? undefined });
}
