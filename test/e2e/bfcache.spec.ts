/**
 * The back/forward cache: a page that navigates away is kept frozen, and Back restores it as it was.
 * The client closes its connection as the page goes into the cache (the endpoint lets the session go
 * at once instead of holding it for a frozen page), and dials at once when the page comes back; its
 * topic resumes where it was, so what was published meanwhile arrives once, in order. Playwright turns
 * the cache off by default; this file turns it back on. The endpoint runs in this process.
 */
import { expect, test } from '@playwright/test';
import config from '../../playwright.config.ts';
import { createEndpoint, type Endpoint } from '../../adapters/node/endpoint.ts';
import { openPage, serveAppWith } from './app-server.ts';

const launch = config.use!.launchOptions!;
test.use({ launchOptions: { ...launch, ignoreDefaultArgs: ['--disable-back-forward-cache'] } });

let ep: Endpoint;
let app: Awaited<ReturnType<typeof serveAppWith>>;

test.beforeAll(async () => {
  ep = createEndpoint();
  ep.route('/add', (n) => (n as number[]).reduce((a, b) => a + b, 0));
  ep.topic('/news', { history: { count: 100 } });
  app = await serveAppWith(ep, '<!doctype html><title>a page</title>');
});
test.afterAll(() => app?.close());

type Page = { mark: number; log: string[]; news: unknown[]; client: { state: string; call: (m: string, b: unknown) => Promise<unknown> } };

test('back/forward cache: the connection closes as the page leaves, and reopens at once when it is back; nothing published meanwhile is lost', async ({
  page,
}) => {
  const errors = await openPage(page, app.url);
  await page.evaluate(async (url) => {
    const { connect } = await import(`${location.origin}/drpc/index.js`);
    const w = window as unknown as Page;
    w.mark = Math.random(); // survives only if the page itself comes back
    w.log = [];
    w.news = [];
    const client = connect(url, { heartbeat: false });
    w.client = client;
    client.on('state', (s: { state: string; reason?: string }) => void w.log.push(`${s.state}: ${s.reason ?? ''}`));
    addEventListener('pageshow', (e) => void w.log.push(`pageshow persisted=${e.persisted}`));
    client.subscribe('/news', (n: unknown) => void w.news.push(n));
    await client.call('/add', [1]); // subscribed by now
  }, app.rpcUrl);
  const mark = await page.evaluate(() => (window as unknown as Page).mark);
  ep.publish('/news', 1);
  await expect.poll(() => page.evaluate(() => (window as unknown as Page).news.length)).toBe(1);

  await page.goto(app.url + '?elsewhere');
  await expect.poll(() => ep.sessions.count, { message: 'the endpoint let the session go' }).toBe(0);
  for (const n of [2, 3, 4]) ep.publish('/news', n);

  await page.goBack({ waitUntil: 'commit' }); // a page from the cache fires no load event
  await expect.poll(() => page.evaluate(() => (window as unknown as Page | undefined)?.client?.state ?? 'reloaded')).toBe('open');
  expect(await page.evaluate(() => (window as unknown as Page).mark), 'the page came back from the cache').toBe(mark);
  await expect.poll(() => page.evaluate(() => (window as unknown as Page).news)).toEqual([1, 2, 3, 4]);
  expect(await page.evaluate(() => (window as unknown as Page).client.call('/add', [2, 3]))).toBe(5);
  const log = await page.evaluate(() => (window as unknown as Page).log);
  expect(log, log.join(' | ')).toEqual([
    expect.stringMatching(/^connecting: /),
    expect.stringMatching(/^open: /),
    expect.stringMatching(/^reconnecting: .*back\/forward cache/),
    'pageshow persisted=true',
    expect.stringMatching(/^open: /),
  ]);
  expect(errors).toEqual([]);
});

test('back/forward cache during the auth exchange: the half-open connection closes too', async ({ page }) => {
  const checks: { closed: boolean }[] = [];
  const authEp = createEndpoint({
    authTimeout: 60_000,
    auth: (_token, session) => {
      const check = { closed: false };
      checks.push(check);
      void session.closed.then(() => (check.closed = true));
      return new Promise(() => {}); // the checker never answers
    },
  });
  const authApp = await serveAppWith(authEp, '<!doctype html><title>auth</title>');
  try {
    const errors = await openPage(page, authApp.url);
    await page.evaluate(async (url) => {
      const { connect } = await import(`${location.origin}/drpc/index.js`);
      (window as unknown as { client: unknown }).client = connect(url, { heartbeat: false, auth: () => 'token' });
    }, authApp.rpcUrl);
    await expect.poll(() => checks.length).toBe(1);
    await page.goto(authApp.url + '?elsewhere');
    await expect.poll(() => checks[0]!.closed, { message: 'the endpoint saw the half-open connection close' }).toBe(true);
    expect(errors).toEqual([]);
  } finally {
    await authApp.close();
  }
});
