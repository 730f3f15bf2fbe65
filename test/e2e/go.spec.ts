/**
 * A page in Chromium calls a Go DMicro service directly, with no glue: the browser bundle against
 * DMicro's own WebSocket mixer (test/interop/cmd/server), over RAW and over DMicro's default JSON
 * sub-protocol, and through DMicro's auth checker. The page is an app's own, served with the browser
 * bundle (dist/browser, which the demo server builds when missing) by app-server.ts.
 */
import type { Server } from 'node:http';
import { expect, test } from '@playwright/test';
import { goBinary } from '../interop/go.ts';
import { freePort, startGo, GOOD_TOKEN, type GoProcess } from '../interop/peers.ts';
import { openPage, serveApp } from './app-server.ts';

let servers: GoProcess[] = [];
const port = { raw: 0, json: 0, auth: 0 };
let app: Server;
let appUrl = '';

test.beforeAll(async () => {
  const bin = goBinary('server');
  [port.raw, port.json, port.auth] = await Promise.all([freePort(), freePort(), freePort()]);
  servers = await Promise.all([
    startGo(bin, ['-ws-raw', String(port.raw), '-ws-json', String(port.json), '-quiet']),
    startGo(bin, ['-ws-raw', String(port.auth), '-auth', '-quiet']),
  ]);
  ({ server: app, url: appUrl } = await serveApp('<!doctype html><title>an app calling Go</title><h1>calling Go</h1>'));
});
test.afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  await new Promise((r) => app?.close(r));
});

for (const kind of ['raw', 'json'] as const)
  test(`a page calls a Go DMicro server over WebSocket (${kind === 'raw' ? 'RAW' : "DMicro's JSON sub-protocol"}): a call, pushes in order, a Go → page call`, async ({
    page,
  }) => {
    const errors = await openPage(page, appUrl);
    const got = await page.evaluate(
      async ({ url, proto }) => {
        const { connect, serveCalls } = await import(`${location.origin}/drpc/index.js`);
        const c = connect(url, { proto, serve: serveCalls, heartbeat: false, reconnect: false });
        const news: unknown[] = [];
        c.onPush('/client/news', (b: unknown) => void news.push(b));
        c.route('/client/answer', (q: string) => `answer to ${q} from the page`);
        const out = {
          sum: await c.call('/math/add', { a: 2, b: 3.5 }),
          pushed: await c.call('/push/me', { n: 5 }),
          news,
          answer: await c.call('/callback/ask', { q: 'life' }),
          meta: (await c.callReply('/echo/meta', undefined, { meta: { 'X-Page': 'é <&>' } })).value,
          status:
            proto === 'raw'
              ? await c.call('/status/custom').then(
                  () => 'no error',
                  (e: { code: number; message: string; causeText: string }) => [e.code, e.message, e.causeText],
                )
              : 'JSON frames carry no status (docs/protocol.md)',
        };
        await c.close();
        return out;
      },
      { url: `ws://127.0.0.1:${kind === 'raw' ? port.raw : port.json}/ws`, proto: kind },
    );
    expect(got.sum).toBe(5.5);
    expect(got.pushed).toEqual({ pushed: 5 });
    expect(got.news).toEqual([0, 1, 2, 3, 4].map((i) => ({ i })));
    expect(got.answer).toBe('answer to life from the page');
    expect(got.meta).toEqual({ 'X-Page': 'é <&>' });
    if (kind === 'raw') expect(got.status).toEqual([1234, 'custom failure', 'because']);
    await page.screenshot({ path: `test-results/screenshots/go-${kind}.png` });
    expect(errors).toEqual([]);
  });

test("a page passes DMicro's auth checker with the good token (and gets the greeting pushed right behind it); a bad one closes the client with 401 and its cause", async ({
  page,
}) => {
  const errors = await openPage(page, appUrl);
  const got = await page.evaluate(
    async ({ url, token }) => {
      const { connect } = await import(`${location.origin}/drpc/index.js`);
      const good = connect(url, { auth: () => token, heartbeat: false });
      const welcome: unknown[] = [];
      good.onPush('/client/welcome', (b: unknown) => void welcome.push(b)); // pushed right behind the AUTH_REPLY
      const sum = await good.call('/math/add', { a: 40, b: 2 });
      const authReply = good.authReply;
      await good.close();
      const bad = connect(url, { auth: () => 'wrong', heartbeat: false });
      const closed = await new Promise<{ code?: number; cause?: string; state: string }>((resolve) =>
        bad.on('closed', (s: { state: string; status?: { code: number; cause: string } }) =>
          resolve({ state: s.state, code: s.status?.code, cause: s.status?.cause }),
        ),
      );
      return { sum, authReply, welcome, closed };
    },
    { url: `ws://127.0.0.1:${port.auth}/ws`, token: GOOD_TOKEN },
  );
  expect(got.sum).toBe(42);
  expect(got.authReply).toBe('ok');
  expect(got.welcome).toEqual(['welcome']);
  expect(got.closed).toEqual({ state: 'closed', code: 401, cause: 'invalid token' });
  expect(errors).toEqual([]);
});
