/**
 * The web demo: one Node process, everything in memory. An http.Server serves the page in
 * demo-web/ (no build step) and the browser bundle (dist/browser, built here when missing or older
 * than src/), and hands drpc on /rpc to an endpoint: WebSocket upgrades, and the HTTP fallback for
 * when WebSocket is blocked. Run: npm run demo (PORT, HOST and DEMO_BOT_MS from the environment).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { readFile, readdir, rm, stat } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { z } from 'zod';
import { Code, DrpcError, codeText, contract, createCodecs } from '../src/index.ts';
import { msgpack } from '../src/codec/msgpack.ts';
import { createEndpoint } from '../adapters/node/index.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const webDir = join(root, 'demo-web');
const bundleDir = join(root, 'dist', 'browser');
const PORT = Number(process.env.PORT ?? 3000);
const HOST = process.env.HOST ?? '127.0.0.1';
const BOT_MS = Number(process.env.DEMO_BOT_MS ?? 4000);
const RPC_PATH = '/rpc';

// ---- the contract: what the page may call, what it serves, what it may subscribe to ------------

const pair = z.object({ a: z.number(), b: z.number() });
const chatMessage = z.object({ name: z.string(), text: z.string(), at: z.number(), bot: z.boolean().optional() });
/** A chat room besides the lobby: its topic `chat/room/<name>` is made when someone joins or writes there. */
const ROOM = /^[a-z0-9][a-z0-9-]{0,23}$/;
const roomName = z.string().regex(ROOM, 'a room name is 1–24 of a-z, 0-9 and -');
const api = contract({
  calls: {
    '/math/add': { input: pair, output: z.number() },
    '/math/sub': { input: pair, output: z.number() },
    '/math/mul': { input: pair, output: z.number() },
    '/math/div': { input: pair, output: z.number() },
    '/chat/send': {
      input: z.object({ name: z.string().trim().min(1).max(32), text: z.string().trim().min(1).max(500), room: roomName.optional() }),
      output: z.object({ offset: z.number() }),
    },
    '/chat/history': {
      input: z.object({ limit: z.number().int().min(1).max(200), room: roomName.optional() }),
      output: z.array(z.object({ offset: z.number(), message: chatMessage })),
    },
    '/chat/here': { input: z.object({ room: roomName.optional() }), output: z.object({ here: z.number() }) },
    '/demo/whoami': { input: z.unknown(), output: z.unknown() },
    '/demo/echo': { input: z.unknown(), output: z.unknown() },
    '/demo/ask': { input: z.object({ question: z.string().min(1).max(200) }), output: z.unknown() },
    '/demo/peek': { input: z.unknown(), output: z.unknown() },
    '/demo/kill': { input: z.unknown(), output: z.unknown() },
    '/demo/websocket': { input: z.object({ blocked: z.boolean() }), output: z.unknown() },
    '/demo/tick': {
      input: z.object({ run: z.string().min(1).max(64), n: z.number().int().min(1).max(2000) }),
      output: z.number(),
    },
    '/demo/tally': {
      input: z.object({ run: z.string().min(1).max(64) }),
      output: z.object({ ran: z.number(), distinct: z.number(), twice: z.number() }),
    },
    '/demo/stream': {
      input: z.object({
        run: z.string().min(1).max(64),
        count: z.number().int().min(1).max(20_000),
        perSecond: z.number().min(1).max(20_000),
      }),
      output: z.unknown(),
    },
  },
  client: {
    '/ui/confirm': { input: z.object({ question: z.string() }), output: z.boolean() },
    '/ui/state': { input: z.unknown(), output: z.unknown() },
  },
  pushes: { '/demo/flags': z.object({ wsBlocked: z.boolean(), online: z.number() }) },
  topics: {
    'chat/lobby': chatMessage,
    'chat/room/*': chatMessage, // a family: one topic per room, made on demand
    'demo/stream': z.object({ run: z.string(), n: z.number(), of: z.number() }),
  },
});

// ---- the endpoint ---------------------------------------------------------------------------

let wsBlocked = false;
const ep = createEndpoint({
  contract: api,
  // Pages may also speak msgpack (drpc/msgpack, served as /drpc-msgpack.js); json stays the default.
  codecs: createCodecs(msgpack),
  // "Block WebSocket": refuse upgrades (HTTP 403) so clients fall back to HTTP; HTTP stays open.
  verifyUpgrade: ({ transport }) => {
    if (wsBlocked && transport === 'websocket')
      throw new DrpcError(
        Code.BadGateway,
        codeText(Code.BadGateway),
        'WebSocket is blocked by the demo (Restore WebSocket allows it again)',
      );
  },
});

const lobby = ep.topic('chat/lobby', { history: { count: 500, maxAgeMs: 3_600_000 } });
// Rooms: a family of topics. A room's topic is made when a page subscribes to it (a name the
// `authorize` check accepts) or when a message is sent there, and dropped once idle (maxTopics).
ep.topic('chat/room/*', {
  history: { count: 200, maxAgeMs: 3_600_000 },
  maxTopics: 100,
  authorize: (_session, topic) => ROOM.test(topic.slice('chat/room/'.length)),
});
const roomTopic = (room?: string) => (room ? (`chat/room/${room}` as const) : 'chat/lobby');
// Bursts of numbered messages for the delivery check: history large enough to resume a whole burst.
const stream = ep.topic('demo/stream', { history: { count: 40_000, maxAgeMs: 120_000 } });

const calc =
  (op: (a: number, b: number) => number) =>
  ({ a, b }: { a: number; b: number }) =>
    op(a, b);
ep.route(
  '/math/add',
  calc((a, b) => a + b),
);
ep.route(
  '/math/sub',
  calc((a, b) => a - b),
);
ep.route(
  '/math/mul',
  calc((a, b) => a * b),
);
ep.route('/math/div', ({ a, b }) => {
  if (b === 0) throw new DrpcError(Code.BadMessage, codeText(Code.BadMessage), 'division by zero');
  return a / b;
});

ep.route('/chat/send', ({ name, text, room }) => ({ offset: ep.publish(roomTopic(room), { name, text, at: Date.now() }) }));
ep.route('/chat/history', ({ limit, room }) =>
  (ep.topics.get(roomTopic(room))?.history ?? [])
    .slice(-limit)
    .map((e) => ({ offset: e.offset, message: e.payload as z.infer<typeof chatMessage> })),
);

// Who is in a room: its topic's subscribers (presence by topic; with a broker, on every node).
ep.route('/chat/here', async ({ room }) => ({ here: (await ep.presence({ topic: roomTopic(room) })).sessions.length }));

// Returns the body as it arrived (the e2e test round-trips values through the msgpack codec).
ep.route('/demo/echo', (body) => body);

ep.route('/demo/whoami', (_, ctx) => ({
  session: ctx.session.id,
  transport: ctx.session.transport.kind,
  wsBlocked,
  online: ep.sessions.count,
}));

// Server → browser: the endpoint calls a route the page serves and reports what it answered.
ep.route('/demo/ask', async ({ question }, ctx) => {
  const t0 = Date.now();
  try {
    const answer = await ep.call(ctx.session, '/ui/confirm', { question }, { timeout: 30_000 });
    return { answer, ms: Date.now() - t0 };
  } catch (err) {
    const e = DrpcError.from(err);
    return { answer: null, error: `${e.code} ${e.causeText || e.message}`, ms: Date.now() - t0 };
  }
});
ep.route('/demo/peek', async (_, ctx) => {
  const t0 = Date.now();
  const state = await ep.call(ctx.session, '/ui/state', null, { timeout: 5000 });
  return { state, ms: Date.now() - t0 };
});

// "Kill connection": reply first, then drop this session (the client sees close code 4102 and redials).
const KILLED = { code: Code.ConnClosed, msg: codeText(Code.ConnClosed), cause: 'killed from the demo page' };
ep.route('/demo/kill', (_, ctx) => {
  const id = ctx.session.id;
  setTimeout(() => ep.sessions.kick(id, KILLED), 30);
  return { kicked: id };
});

ep.route('/demo/websocket', ({ blocked }) => {
  wsBlocked = blocked;
  if (blocked) {
    // Drop every WebSocket session: their next dial is refused and lands on HTTP.
    const status = { code: Code.ConnClosed, msg: codeText(Code.ConnClosed), cause: 'WebSocket blocked by the demo' };
    setTimeout(() => {
      for (const s of ep.sessions.list()) if (s.transport.kind === 'websocket') ep.sessions.kick(s.id, status);
    }, 30);
  }
  announce();
  return { wsBlocked };
});

ep.route('/demo/stream', ({ run, count, perSecond }) => {
  // Every 10 ms, the share of `perSecond` that is due: a steady stream whatever the timer jitter.
  const t0 = Date.now();
  let n = 0;
  const timer = setInterval(() => {
    const due = Math.min(count, Math.ceil(((Date.now() - t0 + 10) * perSecond) / 1000));
    while (n < due) stream.publish({ run, n: ++n, of: count });
    if (n >= count) clearInterval(timer);
  }, 10);
  return { run, count, firstOffset: stream.offset + 1 };
});

// The call check: each call counts its run on the server and takes 20-150 ms, so a kill mid-way
// catches some in flight. Durable calls re-send those after the reconnect; the reply cache answers
// them without running them again, so every call runs once. The last 20 runs are kept.
const ticks = new Map<string, Map<number, number>>(); // run → n → times it ran
ep.route('/demo/tick', async ({ run, n }) => {
  let counts = ticks.get(run);
  if (!counts) {
    ticks.set(run, (counts = new Map()));
    if (ticks.size > 20) ticks.delete(ticks.keys().next().value!);
  }
  counts.set(n, (counts.get(n) ?? 0) + 1);
  await new Promise((r) => setTimeout(r, 20 + Math.random() * 130));
  return n;
});
ep.route('/demo/tally', ({ run }) => {
  const counts = [...(ticks.get(run)?.values() ?? [])];
  return { ran: counts.reduce((a, b) => a + b, 0), distinct: counts.length, twice: counts.filter((c) => c > 1).length };
});

// Presence and the WebSocket flag, pushed to every page (debounced: a reconnect is not news).
let announceTimer: NodeJS.Timeout | undefined;
function announce(): void {
  clearTimeout(announceTimer);
  announceTimer = setTimeout(() => ep.broadcast('/demo/flags', { wsBlocked, online: ep.sessions.count }), 100);
}
ep.on('session', (s) => {
  announce();
  s.on('close', announce);
});

// A bot keeps the room moving.
const botLines = [
  'Deploy #481 finished in 42 s. All green.',
  'Reminder: stand-up in the blue room at 10:00.',
  'New signup from Lisbon. Say hi!',
  'Cache hit ratio is 97.2 % this hour.',
  'Someone pushed to main on a Friday again.',
  'Latency p99 is 38 ms across all regions.',
  'Tip: open this page in a second tab and chat with yourself.',
  'Tip: press "Block WebSocket" and watch the transport switch to HTTP.',
  'Nightly backup verified: 1.2 TB, 0 errors.',
  'Coffee machine on floor 3 is back online.',
];
let botIndex = 0;
const bot =
  BOT_MS > 0
    ? setInterval(
        () => lobby.publish({ name: 'Relay bot', text: botLines[botIndex++ % botLines.length]!, at: Date.now(), bot: true }),
        BOT_MS,
      )
    : undefined;
lobby.publish({ name: 'Relay bot', text: 'Welcome to the lobby. Messages here travel as drpc topic pushes.', at: Date.now(), bot: true });

// ---- the browser bundle ---------------------------------------------------------------------

async function newestMtime(dir: string): Promise<number> {
  let newest = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
    newest = Math.max(newest, (await stat(join(entry.parentPath, entry.name))).mtimeMs);
  }
  return newest;
}

/** Builds dist/browser with rollup's JS API (the browser config only) when it is missing or older than src/. */
async function ensureBundle(): Promise<void> {
  const built = await stat(join(bundleDir, 'index.js')).then(
    (s) => s.mtimeMs,
    () => 0,
  );
  if (built && built >= (await newestMtime(join(root, 'src')))) return;
  console.log(
    built ? 'src/ changed since the browser bundle was built: rebuilding dist/browser …' : 'building the browser bundle (dist/browser) …',
  );
  const t0 = Date.now();
  const cwd = process.cwd();
  process.chdir(root); // the rollup config names its inputs relative to the project root
  try {
    const { rollup } = await import('rollup');
    const configs = (await import(pathToFileURL(join(root, 'rollup.config.mjs')).href)).default as {
      output: { dir?: string } & Record<string, unknown>;
      plugins: unknown[];
    }[];
    const config = configs.find((c) => c.output.dir === 'dist/browser');
    if (!config) throw new Error('rollup.config.mjs has no dist/browser build');
    // Only dist/browser is rebuilt here: keep dist/size (the size check's files) as it is.
    const plugins = (config.plugins as { name?: string }[]).filter((p) => p?.name !== 'clean-browser-dirs');
    await rm(bundleDir, { recursive: true, force: true });
    const bundle = await rollup({ ...config, plugins } as never);
    await bundle.write(config.output as never);
    await bundle.close();
  } finally {
    process.chdir(cwd);
  }
  console.log(`built dist/browser in ${Date.now() - t0} ms`);
}

// ---- static files ---------------------------------------------------------------------------

const types: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
};

/** Maps a URL path to a file: the page from demo-web/, the bundle as /drpc.js, /drpc-http.js and /drpc-msgpack.js (their chunks import ./chunks/…). */
function fileFor(pathname: string): string | undefined {
  if (pathname === '/') return join(webDir, 'index.html');
  if (pathname === '/drpc.js') return join(bundleDir, 'index.js');
  if (pathname === '/drpc-http.js') return join(bundleDir, 'http.js');
  if (pathname === '/drpc-msgpack.js') return join(bundleDir, 'msgpack.js');
  if (pathname === '/msgpack.js.map') return join(bundleDir, 'msgpack.js.map');
  if (pathname === '/http.js.map') return join(bundleDir, 'http.js.map');
  if (pathname === '/index.js.map') return join(bundleDir, 'index.js.map');
  const [base, rel] = pathname.startsWith('/chunks/') ? [join(bundleDir, 'chunks'), pathname.slice(8)] : [webDir, pathname.slice(1)];
  const file = normalize(join(base, decodeURIComponent(rel)));
  return file.startsWith(base + sep) ? file : undefined; // no way out of the two folders
}

async function serveStatic(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { pathname } = new URL(req.url ?? '/', 'http://localhost');
  const file = req.method === 'GET' || req.method === 'HEAD' ? fileFor(pathname) : undefined;
  const body = file ? await readFile(file).catch(() => undefined) : undefined;
  if (!body) {
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found');
    return;
  }
  res.writeHead(200, {
    'content-type': types[extname(file!)] ?? 'application/octet-stream',
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    // A strict CSP: the bundle needs no eval, the page no inline script, nothing leaves this origin.
    'content-security-policy':
      "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; worker-src 'self'",
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

// ---- the server -----------------------------------------------------------------------------

await ensureBundle();
const server = createServer((req, res) => {
  if (ep.handleRequest(req, res, RPC_PATH)) return; // the HTTP fallback and the gateway
  serveStatic(req, res).catch(() => res.writeHead(500).end());
});
ep.attach(server, { path: RPC_PATH }); // WebSocket upgrades
await new Promise<void>((resolve, reject) => {
  server.once('error', reject);
  server.listen(PORT, HOST, () => resolve());
});
console.log(`drpc web demo on http://${HOST.includes(':') ? `[${HOST}]` : HOST}:${PORT}/  (drpc on ${RPC_PATH}; Ctrl-C stops)`);

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  clearInterval(bot);
  await ep.close({ drain: 1000 });
  server.closeAllConnections();
  server.close(() => process.exit(0));
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
