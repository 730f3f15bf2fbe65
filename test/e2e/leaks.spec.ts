/**
 * Closed clients are garbage in a browser too: nothing the client registers in a page (its
 * `online` and `visibilitychange` listeners, WebSocket handlers, the HTTP fallback's streamed fetch
 * and timers, a heartbeat) keeps a closed client alive. Checked in Chromium with WeakRefs and forced
 * collections (`--js-flags=--expose-gc`), against the demo's endpoint.
 */
import { expect, test } from '@playwright/test';
import config from '../../playwright.config.ts';

const launch = config.use!.launchOptions!;
test.use({ launchOptions: { ...launch, args: [...(launch.args ?? []), '--js-flags=--expose-gc'] } });

test('closed clients are garbage (WebSocket and HTTP; after calls, a topic, a heartbeat; closed while dialing)', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto('/');
  const alive = await page.evaluate(async () => {
    const { connect } = await import(`${location.origin}/drpc.js`);
    const { http } = await import(`${location.origin}/drpc-http.js`);
    const url = location.origin.replace(/^http/, 'ws') + '/rpc';
    const refs: { what: string; ref: WeakRef<object> }[] = [];
    // Each client lives in a call of its own, so no frame of this function holds the last one.
    const used = async (what: string, transports: unknown[]) => {
      const c = connect(url, { transports, heartbeat: { rate: 3 } });
      refs.push({ what, ref: new WeakRef(c) });
      await c.call('/math/add', { a: 1, b: 2 });
      let got = 0;
      c.subscribe('chat/lobby', () => void got++, { since: 0 });
      await c.call('/math/add', { a: 3, b: 4 });
      await c.close();
    };
    const closedWhileDialing = async () => {
      const c = connect(url);
      refs.push({ what: 'closed while dialing', ref: new WeakRef(c) });
      await c.close();
    };
    for (let i = 0; i < 3; i++) {
      await used('websocket', ['websocket']);
      await used('http', [http]);
      await closedWhileDialing();
    }
    // Chromium keeps the objects of a page's most recent fetch, and what their promise reactions reach
    // (the last HTTP client), until the page's next fetch: one more fetch, of anything, lets them go.
    // One in every round: a closed client's last request (its DELETE, its aborted stream) may settle
    // late when the endpoint is busy, and only a fetch after it lets it go.
    const gc = (globalThis as unknown as { gc: () => void }).gc;
    for (let round = 0; round < 60; round++) {
      await (await fetch(location.href)).text();
      gc();
      await new Promise((r) => setTimeout(r, 50));
      if (refs.every((r) => r.ref.deref() === undefined)) break;
    }
    return refs.filter((r) => r.ref.deref() !== undefined).map((r) => r.what);
  });
  expect(alive, 'clients still reachable after close()').toEqual([]);
  expect(errors).toEqual([]);
});
