/** What a page tells the client: back online, visible again, into and out of the back/forward cache. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { watchEnvironment } from '../../src/environment.ts';

/** Runs `body` with a page-like globalThis (an EventTarget window and document), then restores it. */
function inPage(body: (page: { window: EventTarget; document: EventTarget & { visibilityState: string } }) => void): void {
  const window = new EventTarget();
  const document = Object.assign(new EventTarget(), { visibilityState: 'visible' });
  const g = globalThis as Record<string, unknown>;
  const saved = { add: g.addEventListener, remove: g.removeEventListener, document: g.document };
  g.addEventListener = window.addEventListener.bind(window);
  g.removeEventListener = window.removeEventListener.bind(window);
  g.document = document;
  try {
    body({ window, document });
  } finally {
    Object.assign(g, { addEventListener: saved.add, removeEventListener: saved.remove, document: saved.document });
    for (const k of ['addEventListener', 'removeEventListener', 'document'] as const) if (g[k] === undefined) delete g[k];
  }
}

const transition = (type: string, persisted: boolean) => Object.assign(new Event(type), { persisted });

describe('watchEnvironment', () => {
  it('wakes on online, on visible and on a page back from the cache; suspends on a page going into it', () => {
    inPage(({ window, document }) => {
      const seen: string[] = [];
      const stop = watchEnvironment(
        () => void seen.push('wake'),
        () => void seen.push('suspend'),
      );
      window.dispatchEvent(new Event('online'));
      document.visibilityState = 'hidden';
      document.dispatchEvent(new Event('visibilitychange'));
      document.visibilityState = 'visible';
      document.dispatchEvent(new Event('visibilitychange'));
      window.dispatchEvent(transition('pagehide', false)); // unloading for good: the browser closes sockets itself
      window.dispatchEvent(transition('pagehide', true));
      window.dispatchEvent(transition('pageshow', false)); // a first load
      window.dispatchEvent(transition('pageshow', true));
      assert.deepEqual(seen, ['wake', 'wake', 'suspend', 'wake']);
      stop();
      window.dispatchEvent(new Event('online'));
      window.dispatchEvent(transition('pagehide', true));
      assert.equal(seen.length, 4, 'nothing after stop()');
    });
  });

  it('is a no-op where there is no window (Node, Deno without one)', () => {
    assert.equal(typeof (globalThis as { addEventListener?: unknown }).addEventListener, 'undefined');
    const stop = watchEnvironment(
      () => assert.fail('woken'),
      () => assert.fail('suspended'),
    );
    stop();
  });
});
