/** Several onPush listeners on one push route: each hears every push; the last one to go unroutes it. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PushListeners } from '../../src/push-listeners.ts';
import { Router } from '../../src/router.ts';
import type { DrpcError } from '../../src/status.ts';
import type { PushContext } from '../../src/router.ts';

const ctx = { serviceMethod: '/news' } as PushContext;

describe('PushListeners', () => {
  it('routes the method on the first listener and unroutes it when the last one goes', async () => {
    const router = new Router();
    const pushes = new PushListeners(router);
    const heard: string[] = [];
    const offA = pushes.add('/news', (b) => void heard.push(`a:${b}`));
    const offB = pushes.add('/news', (b) => void heard.push(`b:${b}`));
    await router.push('/news')!('x', ctx);
    offA();
    offA(); // idempotent
    await router.push('/news')!('y', ctx);
    offB();
    assert.equal(router.push('/news'), undefined);
    assert.deepEqual(heard, ['a:x', 'b:x', 'b:y']);
  });

  it('refuses an empty method or a listener that is not a function (400), leaving nothing routed', () => {
    const router = new Router();
    const pushes = new PushListeners(router);
    const is400 = (e: DrpcError) => e.code === 400 && /onPush needs a non-empty service method and a listener function/.test(e.message);
    assert.throws(() => pushes.add('', () => {}), is400);
    assert.throws(() => pushes.add('/news', 'nope' as never), is400);
    assert.deepEqual(router.pushRoutes, []);
  });
});
