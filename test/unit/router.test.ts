/** Routes by exact service method (drpc matches exactly and case-sensitively), with unknown-route fallbacks. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Router } from '../../src/router.ts';
import type { DrpcError } from '../../src/status.ts';

describe('Router', () => {
  it('matches exactly, case-sensitively; CALL and PUSH routes are apart; unknown handlers catch the rest', () => {
    const r = new Router();
    const add = () => 'add';
    const note = () => {};
    r.route('/math/add', add).routePush('/math/add', note);
    assert.equal(r.call('/math/add'), add);
    assert.equal(r.call('/Math/add'), undefined);
    assert.equal(r.push('/math/add'), note);
    const anyCall = () => 'any';
    r.setUnknownCall(anyCall);
    assert.equal(r.call('/nope'), anyCall);
    r.unroutePush('/math/add');
    assert.equal(r.push('/math/add'), undefined);
    assert.equal(r.call('/math/add'), add, 'unroutePush leaves the CALL route');
    r.unroute('/math/add');
    assert.deepEqual([r.callRoutes, r.pushRoutes], [[], []]);
  });

  it('refuses an empty or non-string method and a handler that is not a function, with 400', () => {
    const r = new Router();
    const is400 = (e: DrpcError) => e.code === 400 && /a route needs a non-empty service method and a handler function/.test(e.message);
    assert.throws(() => r.route('', () => 1), is400);
    assert.throws(() => r.route(7 as never, () => 1), is400);
    assert.throws(() => r.routePush('/a', 'x' as never), is400);
    assert.deepEqual([r.callRoutes, r.pushRoutes], [[], []]);
  });
});
