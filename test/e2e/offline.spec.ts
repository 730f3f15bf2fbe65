/**
 * A browser that goes offline: the client waits for the network instead of spending its redial
 * attempts on dials that must fail, and dials at once when the browser is back online (the
 * 'online' event), where its session resumes. Chromium's offline emulation (context.setOffline)
 * sets navigator.onLine and fires the events; the endpoint runs in this process.
 */
import { expect, test } from '@playwright/test';
import { createEndpoint, type Endpoint } from '../../adapters/node/endpoint.ts';
import { openPage, serveAppWith } from './app-server.ts';

let ep: Endpoint;
let app: Awaited<ReturnType<typeof serveAppWith>>;

test.beforeAll(async () => {
  ep = createEndpoint();
  ep.route('/add', (n) => (n as number[]).reduce((a, b) => a + b, 0));
  app = await serveAppWith(ep, '<!doctype html><title>offline</title>');
});
test.afterAll(() => app?.close());

type Page = { states: string[]; client: { state: string; call: (m: string, b: unknown) => Promise<unknown> } };

test('offline: redial attempts wait for the network; back online, the client dials at once and calls go through', async ({
  page,
  context,
}) => {
  const errors = await openPage(page, app.url);
  await page.evaluate(async (url) => {
    const { connect } = await import(`${location.origin}/drpc/index.js`);
    // Two attempts 20–40 ms apart: without waiting for the network they would be gone in 0.1 s.
    const client = connect(url, { heartbeat: false, reconnect: { min: 20, max: 40, attempts: 2 } });
    const w = window as unknown as Page;
    w.client = client;
    w.states = [];
    client.on('state', (s: { state: string; reason?: string }) => void w.states.push(`${s.state}: ${s.reason ?? ''}`));
    await client.ready();
  }, app.rpcUrl);
  await expect.poll(() => ep.sessions.count).toBe(1);

  await context.setOffline(true);
  expect(await page.evaluate(() => navigator.onLine)).toBe(false);
  ep.sessions.kick(ep.sessions.list()[0]!.id, { code: 500, msg: 'Internal Server Error', cause: 'the network went away' });
  await expect.poll(() => page.evaluate(() => (window as unknown as Page).client.state)).toBe('reconnecting');
  await page.waitForTimeout(1000); // fifty backoff delays
  expect(await page.evaluate(() => (window as unknown as Page).client.state), 'still waiting, attempts not spent').toBe('reconnecting');

  const back = Date.now();
  await context.setOffline(false);
  await expect.poll(() => page.evaluate(() => (window as unknown as Page).client.state), { timeout: 3000 }).toBe('open');
  const took = Date.now() - back;
  expect(await page.evaluate(() => (window as unknown as Page).client.call('/add', [1, 2, 3]))).toBe(6);
  const states = await page.evaluate(() => (window as unknown as Page).states);
  expect(
    states.map((s) => s.split(':')[0]),
    states.join(' | '),
  ).toEqual(['connecting', 'open', 'reconnecting', 'open']);
  expect(took, 'dialed on the online event, not after a backoff').toBeLessThan(1500);
  expect(errors).toEqual([]);
});
