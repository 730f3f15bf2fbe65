/**
 * Token refresh on a live session (our extension, docs/protocol.md): a CALL to REFRESH_AUTH_METHOD
 * runs the endpoint's auth checker again; a refusal that is not a DrpcError is a 401. `accepted` runs
 * once it accepted (credentials that expire take their new expiry).
 */
import type { AuthChecker } from '../../src/auth.ts';
import { REFRESH_AUTH_METHOD } from '../../src/extensions.ts';
import type { Router } from '../../src/router.ts';
import type { Session } from '../../src/session.ts';
import { Code, DrpcError, codeText } from '../../src/status.ts';

export function routeRefreshAuth(router: Router, check: AuthChecker, accepted?: (session: Session) => void): void {
  router.route(REFRESH_AUTH_METHOD, async (payload, ctx) => {
    let result: unknown;
    try {
      result = await check(payload, ctx.session);
    } catch (err) {
      throw err instanceof DrpcError ? err : new DrpcError(Code.Unauthorized, codeText(Code.Unauthorized), err);
    }
    accepted?.(ctx.session);
    return result;
  });
}
