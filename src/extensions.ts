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
 * Meta key on a CALL: the call's identity (unique per client), so a copy re-sent after a reconnect
 * is answered from the peer's reply cache. A REPLY from a peer that keeps such a cache carries meta
 * `_r` = "1": only then does a client re-send calls that were in flight when a connection dropped.
 */
export const CALL_ID_META = '_i';
export const REPLY_CACHED_META = '_r';

/**
 * CALL carrying a fresh auth payload on a live session (token refresh); the endpoint runs its auth
 * checker again and replies with the checker's result, or 401 (the session stays as it was).
 */
export const REFRESH_AUTH_METHOD = '/drpc/auth';
