/**
 * Reserved names of our extensions to drpc (docs/protocol.md). They ride on ordinary messages, so a
 * plain drpc peer ignores the meta keys and answers or drops the reserved methods as unknown routes.
 */

/** Meta key on a CALL: the caller's timeout in ms; the handler's signal aborts when it passes. */
export const DEADLINE_META = '_d';

/** PUSH sent when a caller aborts a call; meta `_c` = the call's seq. Never replied. */
export const CANCEL_METHOD = '/drpc/cancel';
export const CANCEL_META = '_c';

/**
 * Durable calls. On a connection that dialed with a client id (HELLO_QUERY), the client never reuses
 * a seq across its connections, and the endpoint knows each CALL by (client id, seq): a copy re-sent
 * under the same seq after a reconnect is answered from the endpoint's reply cache, or attached to
 * its running original, instead of running twice. Meta `_k` on a CALL (now and then): the client has
 * settled every call with a lower seq, so the endpoint may drop those replies. A client re-sends only
 * once the endpoint's HELLO said it keeps such a cache; a plain drpc peer never says so.
 */
export const CALL_ACK_META = '_k';

/**
 * CALL carrying a fresh auth payload on a live session (token refresh); the endpoint runs its auth
 * checker again and replies with the checker's result, or 401 (the session stays as it was).
 */
export const REFRESH_AUTH_METHOD = '/drpc/auth';

/**
 * PUSH from an endpoint whose credentials expire (its `authExpiresAt` option), after every accepted
 * auth and refresh: the body is the ms left before the endpoint closes the session (status 102,
 * credentials expired). Our client refreshes its auth (REFRESH_AUTH_METHOD) ahead of that.
 */
export const AUTH_EXPIRES_METHOD = '/drpc/auth_expires';

/**
 * Capabilities: a client that understands our extensions dials with the query parameter
 * `HELLO_QUERY=<client id>` (16–64 of [A-Za-z0-9._-], random, the same on every reconnect); an endpoint that
 * sees it PUSHes HELLO_METHOD once the session is open, with a JSON body such as
 * `{"replyCache":{"maxAgeMs":60000}}`. A plain drpc peer ignores the query and never pushes it, so
 * nothing that depends on a capability happens with it.
 */
export const HELLO_QUERY = '_drpc';
export const HELLO_METHOD = '/drpc/hello';

export interface Hello {
  /** Present when the endpoint keeps a reply cache for calls with an identity. */
  replyCache?: { maxAgeMs: number };
}

/**
 * A client id as HELLO_QUERY carries it, or undefined when it is malformed or too short to be a secret
 * (under 16 chars): a connection without one works, but has no reply cache (no durable calls).
 */
export function clientIdOf(value: string | null | undefined): string | undefined {
  return value && /^[A-Za-z0-9._-]{16,64}$/.test(value) ? value : undefined;
}
