/**
 * Checks of options where they are given: a URL that cannot be dialed or a numeric option out of
 * range (NaN, negative, a string) fails at once with 400 naming it, instead of later as endless
 * redials, a redial loop without backoff, a frame limit that never applies or a timer that fires at once.
 */
import { badMessage } from './status.ts';
import type { ConnectOptions } from './client-types.ts';
import type { AnyContract } from './contract.ts';
import { pageUrl } from './environment.ts';

/** [name, value, least allowed, whole numbers only]; an undefined value (the default) passes. Infinity passes. */
export type NumberOption = [name: string, value: unknown, min: number, integer?: boolean];

export function checkNumbers(options: NumberOption[]): void {
  for (const [name, v, min, integer] of options)
    if (v !== undefined && !(typeof v === 'number' && v >= min && (!integer || Number.isInteger(v) || v === Infinity)))
      throw badMessage(`option ${name} must be ${integer ? 'a whole number' : 'a number'} ≥ ${min}, got ${String(v)}`);
}

/** Plugin hooks that run where inbound calls and pushes are served (serveCalls). */
const SERVED_HOOKS = [
  'afterReadCallHeader',
  'afterReadCallBody',
  'beforeWriteReply',
  'afterWriteReply',
  'afterReadPushHeader',
  'afterReadPushBody',
] as const;

/** A URL that cannot be dialed, or a bound out of range (a NaN backoff redials in a hot loop), fails connect() with 400. */
export function checkConnectOptions(url: string, o: ConnectOptions<AnyContract>): void {
  let protocol: string | undefined;
  try {
    protocol = new URL(url, pageUrl()).protocol;
  } catch {
    // reported below
  }
  if (!protocol || !/^(wss?|https?):$/.test(protocol))
    throw badMessage(`connect: ${JSON.stringify(url)} is not a ws:, wss:, http: or https: URL`);
  const r = o.reconnect || {};
  checkNumbers([
    ['timeout', o.timeout, 0],
    ['offlineQueue', o.offlineQueue, 0, true],
    ['maxPendingCalls', o.maxPendingCalls, 1, true],
    ['maxFrameSize', o.maxFrameSize, 1, true],
    ['reconnect.min', r.min, 0],
    ['reconnect.max', r.max, 0],
    ['reconnect.attempts', r.attempts, 0, true],
  ]);
  // Inbound hooks run where calls and pushes are served: without serveCalls they would be skipped.
  const inbound = !o.serve && o.plugins?.find((p) => SERVED_HOOKS.some((k) => p[k]));
  if (inbound)
    throw badMessage(`connect: plugin ${inbound.name} hooks inbound calls or pushes: give connect(url, { serve: serveCalls }) too`);
}
