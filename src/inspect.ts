/**
 * inspect(): a tap on one client, for tests and devtools: every call written (and whether it is a
 * durable call sent again after a reconnect), every reply read with its status and round trip,
 * every push written, every disconnect, and with `watch(client)` every state change and topic gap,
 * each with the time it happened. `stats()` sums them up. It is a plugin, so the bytes on the wire
 * are untouched; an app that does not import it does not pay for it.
 *
 *   const tap = inspect();
 *   const client = connect(url, { plugins: [tap] });
 *   tap.watch(client);
 *   … ; console.table(tap.entries); tap.stats().rtt?.p99
 */
import type { Client } from './client.ts';
import type { ClientState } from './client-types.ts';
import type { HookContext, Plugin } from './hooks.ts';
import { Listeners } from './listeners.ts';

/** One thing the tap saw; `at` is the client's clock (ms). */
export type TapEntry =
  | { at: number; kind: 'call'; seq: number; method: string; resent: boolean }
  | { at: number; kind: 'reply'; seq: number; method: string; code: number; ms: number }
  | { at: number; kind: 'push'; method: string }
  | { at: number; kind: 'disconnect'; reason: string }
  | { at: number; kind: 'state'; state: ClientState; reason: string }
  | { at: number; kind: 'gap'; topic: string; from: number; to: number };

export interface TapStats {
  /** Calls written (a durable call sent again counts in `resent`, not here). */
  calls: number;
  /** Durable calls sent again after a reconnect. */
  resent: number;
  replies: number;
  /** Replies with a non-zero status. */
  failed: number;
  /** Round trips of the replies, in ms (undefined before the first). */
  rtt?: { p50: number; p99: number; max: number };
  /** Times the client went from open to reconnecting (with `watch`). */
  reconnects: number;
  gaps: number;
}

export interface Tap extends Plugin {
  /** What it saw, oldest first (at most `limit`; the oldest go first). */
  readonly entries: readonly TapEntry[];
  /** Also records `client`'s state changes and topic gaps; returns the function that stops. */
  watch(client: Client): () => void;
  /** Calls `fn` with each entry as it is recorded; returns the function that stops. */
  on(fn: (entry: TapEntry) => void): () => void;
  stats(): TapStats;
  /** Forgets what it saw (the stats start over). */
  clear(): void;
}

type TapEvents = { entry: (e: TapEntry) => void };

export function inspect(options: { limit?: number } = {}): Tap {
  const limit = options.limit ?? 10_000;
  let entries: TapEntry[] = [];
  const events = new Listeners<TapEvents>();
  /**
   * The calls written and not yet answered, by seq: when each was last written and its method (a REPLY
   * may not repeat it). A client's seqs never repeat across its sessions and a durable call keeps its
   * seq when it is sent again, so a seq found here is a re-send. Calls that time out get no REPLY:
   * the oldest go once there are more than `limit` (memory stays bounded on a long-lived page).
   */
  const sent = new Map<number, { at: number; method: string }>();
  const record = (e: TapEntry) => {
    entries.push(e);
    if (entries.length > limit) entries = entries.slice(-limit);
    events.emit('entry', e);
  };
  const now = (ctx: HookContext) => ctx.session.clock.now();

  return {
    name: 'drpc-inspect',
    get entries() {
      return entries;
    },
    afterWriteCall(ctx) {
      const { seq, serviceMethod } = ctx.message;
      const resent = sent.delete(seq); // re-inserted below: the Map's order stays oldest first
      sent.set(seq, { at: now(ctx), method: serviceMethod });
      if (sent.size > limit) sent.delete(sent.keys().next().value!);
      record({ at: now(ctx), kind: 'call', seq, method: serviceMethod, resent });
    },
    afterReadReplyHeader(ctx) {
      const { seq, serviceMethod, status } = ctx.message;
      const at = now(ctx);
      const call = sent.get(seq);
      sent.delete(seq);
      const method = call?.method ?? serviceMethod;
      record({ at, kind: 'reply', seq, method, code: status.code, ms: call ? at - call.at : NaN });
    },
    afterWritePush(ctx) {
      record({ at: now(ctx), kind: 'push', method: ctx.message.serviceMethod });
    },
    afterDisconnect(session, reason) {
      record({ at: session.clock.now(), kind: 'disconnect', reason });
    },
    watch(client) {
      const offs = [
        client.on('state', (s) => record({ at: client.clock.now(), kind: 'state', state: s.state, reason: s.reason })),
        client.on('gap', (g) => record({ at: client.clock.now(), kind: 'gap', topic: g.topic, from: g.from, to: g.to })),
      ];
      return () => offs.forEach((off) => off());
    },
    on: (fn) => events.on('entry', fn),
    stats: () => stats(entries),
    clear() {
      entries = [];
      sent.clear();
    },
  };
}

function stats(entries: readonly TapEntry[]): TapStats {
  const s: TapStats = { calls: 0, resent: 0, replies: 0, failed: 0, reconnects: 0, gaps: 0 };
  const rtts: number[] = [];
  let last: ClientState | undefined;
  for (const e of entries) {
    if (e.kind === 'call') e.resent ? s.resent++ : s.calls++;
    else if (e.kind === 'reply') {
      s.replies++;
      if (e.code !== 0) s.failed++;
      if (!Number.isNaN(e.ms)) rtts.push(e.ms);
    } else if (e.kind === 'gap') s.gaps++;
    else if (e.kind === 'state') {
      if (e.state === 'reconnecting' && last === 'open') s.reconnects++;
      last = e.state;
    }
  }
  if (rtts.length) {
    rtts.sort((a, b) => a - b);
    const q = (p: number) => rtts[Math.min(rtts.length - 1, Math.floor(p * rtts.length))]!;
    s.rtt = { p50: q(0.5), p99: q(0.99), max: rtts[rtts.length - 1]! };
  }
  return s;
}
