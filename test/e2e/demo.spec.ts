/**
 * The web demo in a real Chromium: connect, a typed call, a server → browser call, chat between two
 * browsers, a reconnect in the middle of a push stream (every message exactly once, in order) and of
 * a run of calls (every call answered, each run once on the server), the
 * WebSocket-blocked fallback to HTTP and the move back, the client inside a Web Worker, and the msgpack
 * codec's browser bundle.
 * Screenshots of every flow land in test-results/screenshots/.
 */
import { expect, test, type Page } from '@playwright/test';

const shot = (page: Page, name: string) => page.screenshot({ path: `test-results/screenshots/${name}.png`, fullPage: true });

/** Opens the demo and waits until it is connected and subscribed; page errors fail the test. */
async function openDemo(page: Page): Promise<string[]> {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto('/');
  await expect(page.locator('body')).toHaveAttribute('data-ready', '1');
  await expect(page.locator('#state-text')).toHaveText('open');
  return errors;
}

/** The numbers the page received in its current delivery-check run. */
const runOf = (page: Page) =>
  page.evaluate(() => {
    const run = (window as unknown as { demo: { run?: { numbers: number[]; of: number; reconnects: number } } }).demo.run;
    return run ? { numbers: run.numbers, of: run.of, reconnects: run.reconnects } : undefined;
  });
const receivedOf = (page: Page) =>
  page.evaluate(() => (window as unknown as { demo: { run?: { received: number } } }).demo.run?.received ?? 0);

function expectExactlyOnceInOrder(numbers: number[], of: number): void {
  expect(numbers.length, 'messages received').toBe(of);
  const firstWrong = numbers.findIndex((n, i) => n !== i + 1);
  expect(firstWrong, `every number once, in order (first wrong at index ${firstWrong}: ${numbers[firstWrong]})`).toBe(-1);
}

test.afterEach(async ({ request }) => {
  // Whatever a flow did, leave WebSocket allowed for the next one (the gateway answers a plain POST).
  await request.post('/rpc/demo/websocket', { data: { blocked: false } });
});

test('the page loads and connects over WebSocket', async ({ page }) => {
  const errors = await openDemo(page);
  await expect(page.locator('#transport')).toHaveText('websocket');
  await expect(page.locator('#conn-transport')).toHaveText('WebSocket');
  await expect(page.locator('#conn-session')).not.toHaveText('—');
  await expect(page.locator('#conn-client')).not.toHaveText('—');
  await expect(page.locator('#conn-opens')).toHaveText('1');
  await expect(page.locator('#topics tr[data-topic="chat/lobby"]')).toBeVisible();
  await expect(page.locator('#topics tr[data-topic="demo/stream"]')).toBeVisible();
  await expect(page.locator('#events li[data-state="open"]')).toContainText('connected over websocket');
  await expect(page.locator('#feed .msg').first()).toBeVisible(); // the bot's welcome, from the topic history
  await expect(page.locator('#online')).toContainText('online');
  await shot(page, '01-connected');
  expect(errors).toEqual([]);
});

test('a typed call shows its result and latency; a bad call shows the drpc status', async ({ page }) => {
  const errors = await openDemo(page);
  await page.fill('#calc-a', '19');
  await page.fill('#calc-b', '23');
  await page.selectOption('#calc-op', 'add');
  await page.click('#calc-go');
  await expect(page.locator('#calc-result')).toHaveText('42');
  await expect(page.locator('#calc-latency')).toHaveText(/^\d+\.\d ms$/);
  await expect(page.locator('#calc-method')).toHaveText('/math/add');
  await expect(page.locator('#conn-rtt')).toHaveText(/^\d+\.\d \/ \d+\.\d ms$/); // the client's tap (inspect())
  await page.selectOption('#calc-op', 'mul');
  await page.fill('#calc-a', '6');
  await page.fill('#calc-b', '7');
  await page.click('#calc-go');
  await expect(page.locator('#calc-result')).toHaveText('42');
  await shot(page, '02-typed-call');
  await page.selectOption('#calc-op', 'div');
  await page.fill('#calc-b', '0');
  await page.click('#calc-go');
  await expect(page.locator('#calc-error')).toBeVisible();
  await expect(page.locator('#calc-error')).toContainText('400');
  await expect(page.locator('#calc-error')).toContainText('division by zero');
  await page.fill('#calc-b', '');
  await page.click('#calc-go');
  await expect(page.locator('#calc-error')).toContainText('invalid input of /math/div: b:');
  await shot(page, '02-typed-call-error');
  expect(errors).toEqual([]);
});

test('server → browser call: the server asks, the page answers, the server reports the answer', async ({ page }) => {
  const errors = await openDemo(page);
  await page.fill('#ask-question', 'Ship release 2.4 to production?');
  await page.click('#ask-go');
  const dialog = page.locator('#confirm-dialog');
  await expect(dialog).toBeVisible();
  await expect(page.locator('#confirm-question')).toHaveText('Ship release 2.4 to production?');
  await expect(page.locator('#ask-result')).toHaveAttribute('data-answer', 'pending');
  await shot(page, '03-server-asks');
  await page.click('#confirm-yes');
  await expect(dialog).toBeHidden();
  await expect(page.locator('#ask-result')).toHaveAttribute('data-answer', 'yes');
  await expect(page.locator('#ask-result')).toContainText('The server got yes from this page');
  await shot(page, '03-server-got-yes');

  await page.fill('#ask-question', 'Delete the staging database?');
  await page.click('#ask-go');
  await expect(page.locator('#confirm-question')).toHaveText('Delete the staging database?');
  await page.click('#confirm-no');
  await expect(page.locator('#ask-result')).toHaveAttribute('data-answer', 'no');
  await expect(page.locator('#ask-result')).toContainText('The server got no from this page');

  // A route answered at once with the page's own state.
  await page.click('#peek-go');
  await expect(page.locator('#peek-result')).toBeVisible();
  await expect(page.locator('#peek-result')).toContainText('"transport": "websocket"');
  await expect(page.locator('#peek-result')).toContainText('"chat/lobby"');
  expect(errors).toEqual([]);
});

test('chat between two browsers: each sees the other, with the same topic offsets', async ({ browser }) => {
  const [ctxA, ctxB] = [await browser.newContext(), await browser.newContext()];
  try {
    const [a, b] = [await ctxA.newPage(), await ctxB.newPage()];
    const errors = [...(await openDemo(a)), ...(await openDemo(b))];
    const tag = Date.now().toString(36);
    await a.fill('#chat-name', 'Alice');
    await a.fill('#chat-text', `Hi Bob, it's Alice (${tag})`);
    await a.click('#chat-send');
    const fromA = b.locator('#feed .msg', { hasText: `Hi Bob, it's Alice (${tag})` });
    await expect(fromA).toBeVisible();
    await expect(fromA.locator('.who')).toContainText('Alice');
    await b.fill('#chat-name', 'Bob');
    await b.fill('#chat-text', `Hello Alice! (${tag})`);
    await b.press('#chat-text', 'Enter');
    const fromB = a.locator('#feed .msg', { hasText: `Hello Alice! (${tag})` });
    await expect(fromB).toBeVisible();
    // Both pages show both messages under the same offsets, Alice's first.
    const offsetA = Number(await fromA.getAttribute('data-offset'));
    const offsetB = Number(await fromB.getAttribute('data-offset'));
    expect(offsetB).toBeGreaterThan(offsetA);
    await expect(a.locator(`#feed .msg[data-offset="${offsetA}"]`)).toContainText('Alice');
    await expect(b.locator(`#feed .msg[data-offset="${offsetB}"]`)).toContainText('Bob');
    await expect(a.locator(`#feed .msg[data-offset="${offsetA}"]`)).toHaveClass(/mine/);
    await shot(a, '04-chat-alice');
    await shot(b, '04-chat-bob');
    expect(errors).toEqual([]);
  } finally {
    await ctxA.close();
    await ctxB.close();
  }
});

test('rooms: a room is a topic made on demand (a family); two browsers chat there, the lobby does not see it', async ({ browser }) => {
  const [ctxA, ctxB] = [await browser.newContext(), await browser.newContext()];
  try {
    const [a, b] = [await ctxA.newPage(), await ctxB.newPage()];
    const errors = [...(await openDemo(a)), ...(await openDemo(b))];
    const room = `ops-${Date.now().toString(36)}`;
    await a.fill('#room-name', room);
    await a.click('#room-join');
    await expect(a.locator('#chat-title')).toHaveText(`#${room}`);
    await expect(a.locator(`.room-tab[data-topic="chat/room/${room}"]`)).toHaveAttribute('aria-selected', 'true');
    await expect(a.locator(`#topics tr[data-topic="chat/room/${room}"]`)).toBeVisible();
    await a.fill('#chat-name', 'Alice');
    await a.fill('#chat-text', 'deploy starts in 5');
    await a.click('#chat-send');
    const first = a.locator('#feed .msg', { hasText: 'deploy starts in 5' });
    await expect(first).toBeVisible();
    await expect(first).toHaveAttribute('data-offset', '1'); // the room's own offsets
    // Bob joins later (typed in capitals: the page makes it a room name) and reads the history.
    await b.fill('#room-name', room.toUpperCase());
    await b.press('#room-name', 'Enter');
    await expect(b.locator('#feed .msg', { hasText: 'deploy starts in 5' })).toBeVisible();
    await expect(a.locator('#here')).toHaveText('2 here'); // the room topic's subscribers (presence by topic)
    await b.fill('#chat-name', 'Bob');
    await b.fill('#chat-text', 'ack');
    await b.press('#chat-text', 'Enter');
    await expect(a.locator('#feed .msg[data-offset="2"]')).toContainText('ack');
    await shot(a, '04b-room-alice');
    // Back in the lobby: the room's messages are not there; a message in the room counts as unread.
    await a.click('.room-tab[data-topic="chat/lobby"]');
    await expect(a.locator('#chat-title')).toHaveText('Lobby');
    await expect(a.locator('#feed .msg', { hasText: 'deploy starts in 5' })).toHaveCount(0);
    await b.fill('#chat-text', 'done');
    await b.press('#chat-text', 'Enter');
    await expect(a.locator(`.room-tab[data-topic="chat/room/${room}"] .unread`)).toHaveText('1');
    await a.click(`.room-tab[data-topic="chat/room/${room}"]`);
    await expect(a.locator('#feed .msg[data-offset="3"]')).toContainText('done');
    await expect(a.locator(`.room-tab[data-topic="chat/room/${room}"] .unread`)).toHaveCount(0);
    // A name the server's authorize check refuses: no room, and the page says why.
    await a.fill('#room-name', 'no!');
    await a.click('#room-join');
    await expect(a.locator('#toast')).toContainText('Cannot join #no!: 401');
    await expect(a.locator('.room-tab[data-topic="chat/room/no!"]')).toHaveCount(0);
    expect(errors).toEqual([]);
  } finally {
    await ctxA.close();
    await ctxB.close();
  }
});

test('Kill connection in the middle of a push stream: the page reconnects and gets every message exactly once, in order', async ({
  page,
}) => {
  const errors = await openDemo(page);
  await page.selectOption('#stream-count', '5000');
  await page.click('#stream-go');
  await expect.poll(() => receivedOf(page), { timeout: 10_000 }).toBeGreaterThan(600);
  await page.click('#kill');
  await expect(page.locator('#events li[data-state="reconnecting"]').first()).toContainText('killed from the demo page');
  const atKill = await receivedOf(page);
  expect(atKill, 'the kill landed mid-stream').toBeLessThan(5000);
  await expect(page.locator('#state-text')).toHaveText('open');
  await expect(page.locator('#conn-opens')).toHaveText('2');
  await expect(page.locator('#stream-status')).toHaveAttribute('data-status', 'ok', { timeout: 30_000 });
  const run = await runOf(page);
  expect(run!.reconnects).toBeGreaterThanOrEqual(1);
  expectExactlyOnceInOrder(run!.numbers, 5000);
  await expect(page.locator('#stream-missing')).toHaveText('0');
  await expect(page.locator('#stream-dups')).toHaveText('0');
  await expect(page.locator('#topics tr[data-topic="demo/stream"] td').nth(3)).toHaveText('0'); // no gaps
  await shot(page, '05-kill-mid-stream');
  expect(errors).toEqual([]);
});

test('Kill connection while calls are in flight: every call is answered, and the server ran each exactly once', async ({ page }) => {
  const errors = await openDemo(page);
  const callRun = () =>
    page.evaluate(() => {
      const c = (window as unknown as { demo: { callRun?: Record<string, unknown> } }).demo.callRun;
      return (
        c && {
          answered: c.answered as number,
          failed: c.failed as number,
          sent: c.sent as number,
          reconnects: c.reconnects as number,
          tally: c.tally,
        }
      );
    });
  await page.selectOption('#calls-count', '1000');
  await page.click('#calls-go');
  await expect.poll(async () => (await callRun())?.answered ?? 0, { timeout: 10_000 }).toBeGreaterThan(150);
  await page.click('#kill');
  await expect(page.locator('#events li[data-state="reconnecting"]').first()).toContainText('killed from the demo page');
  const atKill = await callRun();
  expect(atKill!.answered, 'the kill landed while calls were still to come').toBeLessThan(1000);
  await expect(page.locator('#calls-status')).toHaveAttribute('data-status', 'ok', { timeout: 30_000 });
  const done = await callRun();
  expect(done!.reconnects).toBeGreaterThanOrEqual(1);
  expect(done).toMatchObject({ answered: 1000, failed: 0, tally: { ran: 1000, distinct: 1000, twice: 0 } });
  await expect(page.locator('#calls-twice')).toHaveText('0');
  await shot(page, '05b-kill-mid-calls');
  expect(errors).toEqual([]);
});

test('Block WebSocket: the page falls back to HTTP and pushes keep coming; Restore: back to WebSocket with nothing lost or doubled', async ({
  page,
}) => {
  const errors = await openDemo(page);
  await expect(page.locator('#transport')).toHaveText('websocket');
  await page.click('#block-ws');
  await expect(page.locator('#transport')).toHaveText('http');
  await expect(page.locator('#conn-ws')).toHaveText('blocked by the server');
  await expect(page.locator('#state-text')).toHaveText('open');
  await expect(page.locator('#restore-ws')).toBeEnabled();

  // Over HTTP: a call, a chat message and a stream.
  await page.fill('#calc-a', '40');
  await page.fill('#calc-b', '2');
  await page.selectOption('#calc-op', 'add');
  await page.click('#calc-go');
  await expect(page.locator('#calc-result')).toHaveText('42');
  const tag = `over http ${Date.now().toString(36)}`;
  await page.fill('#chat-text', tag);
  await page.click('#chat-send');
  await expect(page.locator('#feed .msg', { hasText: tag })).toBeVisible();
  await page.selectOption('#stream-count', '2000');
  await page.click('#stream-go');
  await expect(page.locator('#stream-status')).toHaveAttribute('data-status', 'ok', { timeout: 30_000 });
  expectExactlyOnceInOrder((await runOf(page))!.numbers, 2000);
  await expect(page.locator('#transport')).toHaveText('http'); // the probe keeps failing while blocked
  await shot(page, '06-websocket-blocked-http');

  // Restore while a stream runs: the probe (every 3 s) opens a WebSocket and the session moves over.
  // 10,000 at 1,500/s: about 7 s, so the move (within 3 s of Restore) lands mid-stream.
  await page.evaluate(() => ((window as unknown as { demo: { streamRate: number } }).demo.streamRate = 1500));
  await page.selectOption('#stream-count', '10000');
  await page.click('#stream-go');
  await expect.poll(() => receivedOf(page), { timeout: 10_000 }).toBeGreaterThan(300);
  await page.click('#restore-ws');
  await expect(page.locator('#transport')).toHaveText('websocket', { timeout: 10_000 });
  expect(await receivedOf(page), 'the move happened mid-stream').toBeLessThan(10_000);
  await expect(page.locator('#events li').first()).toContainText('moved to websocket');
  // the move back is one 'open' event ('moved to websocket'), not a reconnect
  await expect(page.locator('#events li', { hasText: 'moved to websocket' })).toHaveCount(1);
  await expect(page.locator('#stream-status')).toHaveAttribute('data-status', 'ok', { timeout: 30_000 });
  expectExactlyOnceInOrder((await runOf(page))!.numbers, 10_000);
  await expect(page.locator('#topics tr[data-topic="demo/stream"] td').nth(3)).toHaveText('0');
  await expect(page.locator('#conn-ws')).toHaveText('allowed');
  await shot(page, '06-websocket-restored');
  expect(errors).toEqual([]);
});

test('the client inside a Web Worker connects and calls', async ({ page }) => {
  const errors = await openDemo(page);
  await page.fill('#calc-a', '20');
  await page.fill('#calc-b', '22');
  await page.selectOption('#calc-op', 'add');
  await page.click('#worker-go');
  await expect(page.locator('#worker-result')).toHaveAttribute('data-ok', 'true');
  await expect(page.locator('#worker-result')).toHaveAttribute('data-in-worker', 'true');
  await expect(page.locator('#worker-result')).toContainText('Worker got 42 from /math/add over websocket');
  await shot(page, '07-web-worker');
  expect(errors).toEqual([]);
});

test('the msgpack codec in the browser: values at the format boundaries round-trip through the endpoint', async ({ page }) => {
  const errors = await openDemo(page);
  const result = await page.evaluate(async () => {
    const { connect, createCodecs } = await import(`${location.origin}/drpc.js`);
    const { msgpack } = await import(`${location.origin}/drpc-msgpack.js`);
    const client = connect(`${location.origin.replace(/^http/, 'ws')}/rpc`, { codecs: createCodecs(msgpack), codec: 'msgpack' });
    try {
      const bin = new Uint8Array(70_000).map((_, i) => (i * 7) & 255);
      const sent = {
        ints: [
          0,
          127,
          128,
          255,
          256,
          65535,
          65536,
          2 ** 32 - 1,
          2 ** 32,
          2 ** 53 - 1,
          -1,
          -32,
          -33,
          -129,
          -32769,
          -(2 ** 31) - 1,
          -(2 ** 53 - 1),
        ],
        float: -2.5e-7,
        text: ['', 'a'.repeat(31), 'é'.repeat(40), '😀 drpc', 'x'.repeat(70_000)],
        when: new Date(1_700_000_000_123),
        before1970: new Date(-86_400_001),
        big: 2n ** 63n + 5n,
        nested: { list: [{ ok: true }, null, [1, [2, [3]]]] },
      };
      const reply = await client.callReply('/demo/echo', { ...sent, bin });
      const v = reply.value;
      return {
        bodyCodec: reply.bodyCodec,
        same:
          JSON.stringify({ ...v, big: String(v.big), bin: undefined }) ===
          JSON.stringify({ ...sent, big: String(sent.big), bin: undefined }),
        dates: [v.when instanceof Date, v.when.getTime(), v.before1970.getTime()],
        big: typeof v.big === 'bigint' && v.big === sent.big,
        bin: v.bin instanceof Uint8Array && v.bin.length === bin.length && v.bin.every((b: number, i: number) => b === bin[i]),
      };
    } finally {
      await client.close();
    }
  });
  expect(result).toEqual({ bodyCodec: 109, same: true, dates: [true, 1_700_000_000_123, -86_400_001], big: true, bin: true });
  expect(errors).toEqual([]);
});
