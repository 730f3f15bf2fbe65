/**
 * The key under which an endpoint keeps a client's durable state (its reply cache, the hand-off of
 * that cache between nodes, keepReplies records in Redis). It is the client id the peer dialed with,
 * bound to the session's principal when the endpoint has a `principal` option: the id travels in URLs
 * (a bearer secret), and a binding means that whoever learns it and dials with other credentials
 * finds nothing of the client's. Client ids are [A-Za-z0-9._-], so a bound key never equals one.
 */
import { createHash } from 'node:crypto';
import type { AuthChecker } from '../../src/auth.ts';
import type { Session } from '../../src/session.ts';

export function clientKey(clientId: string, principal: string | undefined): string {
  if (principal === undefined) return clientId;
  // A digest: bounded, and the principal (a user id, an email) stays out of Redis key names.
  return `${clientId}~${createHash('sha256').update(String(principal)).digest('base64url').slice(0, 22)}`;
}

/**
 * `auth`, then the client's key bound to the principal it established, handed to `bound` (which
 * claims it from the client's previous node) before the AUTH_REPLY lets the client send its calls.
 */
export function bindingAuth(
  auth: AuthChecker,
  principal: (session: Session) => string | undefined,
  clientId: string,
  bound: (key: string) => unknown,
): AuthChecker {
  return async (payload, session) => {
    const reply = await auth(payload, session);
    await bound(clientKey(clientId, principal(session)));
    return reply;
  };
}
