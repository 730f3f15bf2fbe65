/**
 * Credentials that expire (endpoint option `authExpiresAt`): a token checked once at connect would
 * otherwise keep its session open long after it expired or was revoked. After every accepted auth
 * and token refresh the endpoint reads when the session's credentials expire, tells the client how
 * long it has (AUTH_EXPIRES_METHOD, so it refreshes ahead of time), and closes the session when that
 * time comes without a refresh: status 102 "credentials expired", so the client reconnects, and its
 * `auth()` gives it fresh ones; a refused refresh or reconnect is the 401 that ends it.
 */
import type { AuthChecker } from '../../src/auth.ts';
import type { Clock, TimerHandle } from '../../src/clock.ts';
import { AUTH_EXPIRES_METHOD } from '../../src/extensions.ts';
import type { Session } from '../../src/session.ts';
import { Code, codeError, codeText, show } from '../../src/status.ts';

/** When a session's credentials expire (the endpoint clock's ms), or undefined: they do not. */
export type AuthExpiresAt = (session: Session) => number | undefined;

export class AuthExpiry {
  /** What the last accepted check said, until `arm` schedules it. */
  readonly #due = new WeakMap<Session, number | undefined>();
  /** The close timer of each session armed once (undefined: no expiry now). */
  readonly #timers = new WeakMap<Session, TimerHandle | undefined>();
  readonly #clock: Clock;
  readonly #expiresAt: AuthExpiresAt;

  constructor(clock: Clock, expiresAt: AuthExpiresAt) {
    this.#clock = clock;
    this.#expiresAt = expiresAt;
  }

  /** The checker, reading the expiry once it accepted (a bad expiry fails the auth with 500). */
  check(auth: AuthChecker): AuthChecker {
    return async (payload, session) => {
      const result = await auth(payload, session);
      const at = this.#expiresAt(session);
      if (at !== undefined && !(typeof at === 'number' && !Number.isNaN(at)))
        throw codeError(Code.InternalServerError, `authExpiresAt must return a time in ms or undefined, got ${show(at)}`);
      this.#due.set(session, at);
      return result;
    };
  }

  /** Once the session can send (opened, or its refresh accepted): the expiry takes effect. */
  arm(session: Session): void {
    const clock = this.#clock;
    if (this.#timers.has(session)) this.#stop(session);
    else session.on('close', () => this.#stop(session));
    const at = this.#due.get(session);
    const left = at === undefined ? undefined : Math.ceil(at - clock.now());
    this.#timers.set(session, left && left > 0 ? clock.setTimeout(() => expire(session), left) : undefined);
    if (left === undefined) return;
    if (left <= 0) return expire(session);
    session.push(AUTH_EXPIRES_METHOD, left).catch(() => {}); // closed meanwhile: nothing to tell
  }

  #stop(session: Session): void {
    const timer = this.#timers.get(session);
    if (timer !== undefined) this.#clock.clearTimeout(timer);
  }
}

function expire(session: Session): void {
  session.abort({ code: Code.ConnClosed, msg: codeText(Code.ConnClosed), cause: 'credentials expired' }, 'credentials expired');
}
