/**
 * A tab in the background keeps its connection. Chromium throttles a hidden page's chained timers
 * (timer nesting level ≥ 5) to one wake-up a minute ("intensive wake-up throttling", after 5 minutes
 * hidden; 10 s here, by a feature flag). A heartbeat armed in its own timer callback would then ping
 * once a minute, the endpoint would close the silent session after 2 × rate, and the tab would
 * reconnect every minute (socket.io#4040). Ours arms the next ping when the pong arrives.
 *
 * Headless Chromium never hides a page, and a page Playwright drives stays visible too, so this test
 * starts a headed Chromium itself on its own X server (Xvfb: `apt-get install xvfb`, which .ci/run
 * does), with background throttling on, and hides the page behind a second tab over the DevTools
 * protocol. The page reports what it sees (client states, visibility) by calls to the endpoint.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import WebSocket from 'ws';
import { createEndpoint } from '../../adapters/node/endpoint.ts';
import type { Session } from '../../src/session.ts';
import { serveAppWith } from './app-server.ts';

const RATE = 3; // seconds: the endpoint closes a session silent for 2 × 3 s + 0.5 s
const HIDDEN_MS = 40_000; // the 10 s grace, then more than half a minute of intensive throttling

let xvfb: ChildProcess | undefined;
let display = '';
let app: Awaited<ReturnType<typeof serveAppWith>>;
/** Every session the endpoint opened, and when each heartbeat of each arrived (ms since the start). */
const sessions: { session: Session; pings: number[] }[] = [];
/** What the page reported: its clients' states ("websocket open: …") and its visibility changes. */
const reports: string[] = [];

/**
 * The page: two clients with a heartbeat of RATE seconds, one on WebSocket, one on the HTTP fallback
 * only, reporting their states; and the page's visibility changes.
 */
const PAGE = `<!doctype html><title>a tab</title><script type="module">
  import { connect } from '/drpc/index.js';
  import { http } from '/drpc/http.js';
  const url = location.origin.replace(/^http/, 'ws') + '/rpc';
  const ws = connect(url, { heartbeat: { rate: ${RATE} } });
  const report = (what) => ws.call('/report', what).catch(() => {});
  const overHttp = connect(url, { heartbeat: { rate: ${RATE} }, transports: [http] });
  for (const [name, c] of [['websocket', ws], ['http', overHttp]])
    c.on('state', (s) => report(name + ' ' + s.state + ': ' + (s.reason ?? '')));
  document.addEventListener('visibilitychange', () => report('visibility ' + document.visibilityState));
  addEventListener('error', (e) => report('error ' + e.message));
</script>`;
const t0 = Date.now();

/** Starts Xvfb on a free display (it writes the display number to fd 3 once it is ready). */
function startXvfb(): Promise<string> {
  return new Promise((resolve, reject) => {
    const x = spawn('Xvfb', ['-displayfd', '3', '-screen', '0', '1280x800x24', '-nolisten', 'tcp'], {
      stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
    });
    xvfb = x;
    let err = '';
    x.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    x.once('error', (e) => reject(new Error(`Xvfb could not start (apt-get install xvfb): ${e.message}`)));
    x.once('exit', (code) => reject(new Error(`Xvfb exited with ${code}: ${err.trim()}`)));
    (x.stdio[3] as NodeJS.ReadableStream).once('data', (d: Buffer) => resolve(`:${d.toString().trim()}`));
  });
}

/** The app (app-server.ts) with drpc on /rpc: an endpoint that logs every heartbeat it gets. */
function serveWithEndpoint(): ReturnType<typeof serveAppWith> {
  const ep = createEndpoint({
    plugins: [
      {
        name: 'ping-log',
        afterReadCallHeader: ({ session, message }) => {
          if (message.serviceMethod === '/heartbeat') sessions.find((s) => s.session === session)?.pings.push(Date.now() - t0);
        },
      },
    ],
  });
  ep.on('session', (session) => void sessions.push({ session, pings: [] }));
  ep.route('/report', (what) => void reports.push(String(what)));
  return serveAppWith(ep, PAGE);
}

test.beforeAll(async () => {
  display = await startXvfb();
  app = await serveWithEndpoint();
});
test.afterAll(async () => {
  await app?.close();
  xvfb?.kill();
});

/** Headed Chromium on our X server, with its throttling of background tabs on; resolves with its DevTools URL. */
function startChromium(url: string): Promise<{ process: ChildProcess; devtools: string }> {
  return new Promise((resolve, reject) => {
    const features = 'IntensiveWakeUpThrottling:grace_period_seconds/10'; // 5 minutes by default
    const args = [
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ];
    const p = spawn(
      process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      [
        ...args,
        '--user-data-dir=' + mkdtempSync(join(tmpdir(), 'drpc-bg-')),
        `--enable-features=${features}`,
        '--remote-debugging-port=0',
        url,
      ],
      {
        env: { ...process.env, DISPLAY: display },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let err = '';
    p.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /DevTools listening on (ws:\S+)/.exec(err);
      if (m) resolve({ process: p, devtools: m[1]! });
    });
    p.once('error', reject);
    p.once('exit', (code) => reject(new Error(`chromium exited with ${code}: ${err.slice(-500)}`)));
  });
}

/** One DevTools command on the browser target. */
function devtools(ws: WebSocket, method: string, params: object = {}): Promise<Record<string, unknown>> {
  const id = Math.floor(Math.random() * 1e9);
  return new Promise((resolve, reject) => {
    const on = (data: Buffer) => {
      const m = JSON.parse(data.toString()) as { id?: number; result?: Record<string, unknown>; error?: { message: string } };
      if (m.id !== id) return;
      ws.off('message', on);
      if (m.error) reject(new Error(`${method}: ${m.error.message}`));
      else resolve(m.result ?? {});
    };
    ws.on('message', on);
    ws.send(JSON.stringify({ id, method, params }));
  });
}

test('a hidden tab keeps its sessions, on WebSocket and on HTTP: their heartbeats go on every few seconds, no reconnect', async () => {
  test.setTimeout(HIDDEN_MS + 60_000);
  const chrome = await startChromium(app.url);
  try {
    const opened = () => reports.filter((r) => / open: /.test(r)).length;
    await expect.poll(opened).toBe(2);
    expect(sessions.map((s) => s.session.transport.kind).sort()).toEqual(['http', 'websocket']);
    // A second tab in front, in the same window: ours is hidden behind it.
    const browser = new WebSocket(chrome.devtools);
    await new Promise((r, j) => (browser.once('open', r), browser.once('error', j)));
    const { targetId } = await devtools(browser, 'Target.createTarget', { url: 'about:blank' });
    await devtools(browser, 'Target.activateTarget', { targetId });
    await expect.poll(() => reports.includes('visibility hidden')).toBe(true);
    const hiddenAt = Date.now() - t0;
    await new Promise((r) => setTimeout(r, HIDDEN_MS));
    browser.close();

    expect(
      reports.filter((r) => !/ connecting: /.test(r)).sort(),
      'both clients opened once, the page was hidden, and nothing else happened',
    ).toEqual([expect.stringMatching(/^http open: /), 'visibility hidden', expect.stringMatching(/^websocket open: /)]);
    expect(sessions.length, 'two sessions: neither client reconnected').toBe(2);
    for (const { session, pings: all } of sessions) {
      const kind = session.transport.kind;
      const pings = all.filter((at) => at > hiddenAt);
      const gaps = pings.slice(1).map((at, i) => at - pings[i]!);
      expect(session.state, kind).toBe('open');
      expect(pings.length, `${kind}: pings while hidden, at ${pings.join(', ')} ms`).toBeGreaterThanOrEqual(
        HIDDEN_MS / ((RATE + 1) * 1000) - 1,
      );
      expect(Math.max(...gaps), `${kind}: gaps between pings while hidden: ${gaps.join(', ')} ms`).toBeLessThan(2 * RATE * 1000);
    }
  } finally {
    chrome.process.kill();
  }
});
