/**
 * The client scenarios, runtime-agnostic: Deno and Bun run them through client-scenarios.ts against a
 * Node endpoint; Node runs them in-process against an endpoint started inside Deno or Bun. Every
 * scenario is bounded by a timeout and reports `{ name, ok, error?, ms }`; a failure never stops the
 * ones after it, and every client is closed at the end.
 */
import { connect, DrpcError, serveCalls, type Client, type ClientState, type ConnectOptions, type StateInfo } from '../../src/index.ts';
import { api, CUSTOM, KICK, SCENARIOS, type ScenarioName, type ScenarioResult } from './contract.ts';

type ApiClient = Client<typeof api>;
/** For calls the contract does not know (an unknown route). */
type Untyped = { call(method: string, body?: unknown): Promise<unknown> };

const STEP = 5000; // ms any one wait may take
const BUDGET = 10_000; // ms all scenarios together may take (they take 0.2–0.5 s)

function within<T>(p: Promise<T>, what: string, ms = STEP): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms))),
  ]).finally(() => clearTimeout(timer));
}

const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function until(cond: () => boolean, what: string, ms = STEP): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms: ${what}`);
    await delay(5);
  }
}

function check(cond: unknown, what: string): asserts cond {
  if (!cond) throw new Error(what);
}

function same(actual: unknown, expected: unknown, what: string): void {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new Error(`${what}: expected ${e}, got ${a}`);
}

async function rejection(p: Promise<unknown>, what: string): Promise<DrpcError> {
  let value: unknown;
  try {
    value = await within(p, what);
  } catch (err) {
    check(err instanceof DrpcError, `${what}: expected a DrpcError, got ${String(err)}`);
    return err;
  }
  throw new Error(`${what}: expected a rejection, got ${JSON.stringify(value)}`);
}

/** Every state event of a client, with a wait for the next one in a given state. */
class States {
  readonly events: StateInfo[] = [];
  constructor(client: Client<typeof api>) {
    client.on('state', (info) => void this.events.push(info));
  }
  async after(from: number, state: ClientState): Promise<StateInfo> {
    await until(
      () => this.events.slice(from).some((e) => e.state === state),
      `state '${state}' (saw ${this.events.map((e) => e.state).join(' → ')})`,
    );
    return this.events.slice(from).find((e) => e.state === state)!;
  }
}

const options: ConnectOptions<typeof api> = {
  contract: api,
  heartbeat: false,
  reconnect: { min: 20, max: 200 },
  connectTimeout: 3000,
  timeout: STEP,
  serve: serveCalls, // the endpoint calls the client back
};

/**
 * Runs every scenario against the endpoint at `url`; `emit` hears each result as it is known. All of
 * them together get `budget` ms: a scenario still running then fails, and the ones after it are not run.
 */
export async function runScenarios(url: string, emit: (r: ScenarioResult) => void, budget = BUDGET): Promise<ScenarioResult[]> {
  const deadline = Date.now() + budget;
  const results: ScenarioResult[] = [];
  const opened: Client<typeof api>[] = [];
  const open = (extra: ConnectOptions<typeof api> = {}): ApiClient => {
    const c = connect(url, { ...options, ...extra });
    opened.push(c);
    return c;
  };
  let connected = false; // without a first connection the rest would only time out one by one
  const run = async (name: ScenarioName, body: () => Promise<void>) => {
    const start = Date.now();
    let error: string | undefined;
    try {
      if (!connected && name !== 'connect and ready') throw new Error('not run: the client never connected');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`not run: the scenarios' ${budget} ms were used up`);
      await within(body(), `${name} (the scenarios' ${budget} ms were used up)`, left);
    } catch (err) {
      error = err instanceof DrpcError ? `DrpcError ${err.code} ${err.message}: ${err.causeText}` : String((err as Error)?.stack ?? err);
    }
    const r: ScenarioResult = { name, ok: error === undefined, ...(error === undefined ? {} : { error }), ms: Date.now() - start };
    results.push(r);
    emit(r);
  };

  const client = open();
  const states = new States(client);
  const pushes: string[] = [];
  client.onPush('/news', (m) => void pushes.push(m.text));
  client.route('/client/ask', (q) => `answer to ${q} from ${client.state} client`);

  await run('connect and ready', async () => {
    await within(client.ready(), 'client.ready()');
    connected = true;
    check(client.state === 'open', `state is ${client.state}`);
    same(
      states.events.map((e) => e.state),
      ['connecting', 'open'],
      'state events',
    );
  });

  await run('typed call with a result', async () => {
    const sum: number = await within(client.call('/math/add', { a: 40, b: 2 }), '/math/add');
    same(sum, 42, '/math/add');
    const reply = await within(client.callReply('/echo', { list: [1, 'two', null], text: 'ü→✓' }), '/echo');
    same(reply.value, { list: [1, 'two', null], text: 'ü→✓' }, '/echo value');
    same(reply.status.code, 0, '/echo status');
    same(reply.bodyCodec, 106, '/echo body codec (json)');
  });

  await run('call errors carry drpc status codes (404, custom 1234)', async () => {
    const missing = await rejection((client as unknown as Untyped).call('/no/such/route', 1), 'unknown route');
    same([missing.code, missing.message, missing.causeText], [404, 'Not Found', 'no CALL route for "/no/such/route"'], 'unknown route');
    const custom = await rejection(client.call('/fail/custom', null), '/fail/custom');
    same([custom.code, custom.message, custom.causeText], [CUSTOM.code, CUSTOM.msg, CUSTOM.cause], 'custom status');
    const invalid = await rejection(client.call('/math/add', { a: 'x' } as unknown as { a: number; b: number }), 'invalid input');
    same(invalid.code, 400, 'contract validation status');
    check(client.state === 'open', `a status is an answer, not a connection problem (state ${client.state})`);
  });

  await run('server push reaches onPush', async () => {
    const before = pushes.length;
    same(await within(client.call('/ctl/push-me', { text: 'hello from the endpoint' }), '/ctl/push-me'), true, '/ctl/push-me');
    await until(() => pushes.length > before, 'the push');
    same(pushes.slice(before), ['hello from the endpoint'], 'pushes');
  });

  await run('server → client call answered by client.route', async () => {
    const answer = await within(client.call('/ctl/ask-me', 'life'), '/ctl/ask-me');
    same(answer, 'answer to life from open client', 'the answer the endpoint got back');
  });

  await run('topic: ordered offsets, resume after a server-side kill with no loss and no duplicates', async () => {
    const got: { n: number; offset: number }[] = [];
    const gaps: unknown[] = [];
    const sub = client.subscribe('/feed', (n, info) => void got.push({ n, offset: info.offset }));
    sub.onGap((g) => void gaps.push(g));
    await within(sub.ready, 'sub.ready');
    const last = await within(client.call('/ctl/publish', { from: 1, to: 5 }), 'publish 1..5');
    await until(() => got.length >= 5, `messages 1..5 (got ${got.length})`);
    same(got[4]?.offset, last, 'offset of message 5 (what publish returned)');

    const from = states.events.length;
    await within(client.call('/ctl/kick-then-publish', { from: 6, to: 10 }), 'kick then publish 6..10');
    const lost = await states.after(from, 'reconnecting');
    same(lost.status?.code, KICK.code, 'status of the kick (close code 4000 + 500)');
    await states.after(from, 'open');
    await until(() => got.length >= 10, `the replay of 6..10 (got ${got.length})`);
    await within(client.call('/ctl/publish', { from: 11, to: 12 }), 'publish 11..12');
    await until(() => got.length >= 12, `live messages 11..12 (got ${got.length})`);
    await delay(30); // a duplicate would arrive now
    same(
      got.map((g) => g.n),
      Array.from({ length: 12 }, (_, i) => i + 1),
      'messages, in order, once each',
    );
    const first = got[0]!.offset;
    same(
      got.map((g) => g.offset),
      Array.from({ length: 12 }, (_, i) => first + i),
      'offsets, consecutive',
    );
    same(sub.offset, first + 11, 'sub.offset');
    same(gaps, [], 'gaps');
    await within(sub.unsubscribe(), 'unsubscribe');
  });

  await run('reconnect after the endpoint closes the session', async () => {
    const before = await within(client.call('/ctl/whoami', null), 'whoami before');
    const from = states.events.length;
    const closed = await within(client.call('/ctl/close-me', null), '/ctl/close-me');
    same(closed, before.id, 'the session the endpoint closes');
    await states.after(from, 'reconnecting');
    await states.after(from, 'open');
    const after = await within(client.call('/ctl/whoami', null), 'whoami after');
    check(after.id !== before.id, `a new session (${before.id} → ${after.id})`);
    same(await within(client.call('/math/add', { a: 1, b: 2 }), '/math/add after'), 3, '/math/add after the reconnect');
    same(await within(client.call('/ctl/ask-me', 'again'), '/ctl/ask-me after'), 'answer to again from open client', 'routes survive');
  });

  await run("JSON sub-protocol (proto: 'json')", async () => {
    const c = open({ proto: 'json' });
    const jsonPushes: string[] = [];
    c.onPush('/news', (m) => void jsonPushes.push(m.text));
    await within(c.ready(), 'json client ready');
    same((await within(c.call('/ctl/whoami', null), 'whoami')).wire, 'json', 'the encoding the endpoint reads');
    same(await within(c.call('/math/add', { a: 2, b: 3 }), '/math/add'), 5, '/math/add over json');
    const missing = await rejection((c as unknown as Untyped).call('/no/such/route'), 'unknown route over json');
    same(missing.code, 404, 'status over json');
    const custom = await rejection(c.call('/fail/custom', null), '/fail/custom over json');
    same([custom.code, custom.causeText], [CUSTOM.code, CUSTOM.cause], 'custom status over json');
    await within(c.call('/ctl/push-me', { text: 'json push' }), 'push over json');
    await until(() => jsonPushes.length === 1, 'the push over json');
    same(jsonPushes, ['json push'], 'pushes over json');
    await within(c.close(), 'json client close');
  });

  await run('msgpack codec (src/codec/msgpack.ts)', async () => {
    const { msgpack } = await within(import('../../src/codec/msgpack.ts'), 'import msgpack');
    const { createCodecs } = await import('../../src/index.ts');
    const c = open({ codecs: createCodecs(msgpack), codec: 'msgpack' });
    await within(c.ready(), 'msgpack client ready');
    const body = { n: 1.5, big: 2 ** 40, list: [1, 'two', null, true], nested: { text: 'ü→✓' }, bytes: new Uint8Array([0, 1, 255]) };
    const reply = await within(c.callReply('/echo', body), '/echo in msgpack');
    same(reply.bodyCodec, msgpack.id, 'reply body codec (msgpack 109)');
    const v = reply.value as typeof body;
    same({ ...v, bytes: [...v.bytes] }, { ...body, bytes: [0, 1, 255] }, 'msgpack round trip');
    check(v.bytes instanceof Uint8Array, 'bytes come back as a Uint8Array');
    same(await within(c.call('/math/add', { a: 20, b: 22 }), '/math/add in msgpack'), 42, '/math/add in msgpack');
    await within(c.close(), 'msgpack client close');
  });

  await run('HTTP fallback transport (drpc/http): call, push, server → client call', async () => {
    // The runtime's fetch in Deno and Bun (nodeFetch() is undefined there), node:http in Node.
    const { http } = await within(import('../../src/transport/http.ts'), 'import drpc/http');
    const { nodeFetch } = await within(import('../../src/transport/node-fetch.ts'), 'import nodeFetch');
    const c = open({ transports: [http], fetch: nodeFetch() });
    const httpPushes: string[] = [];
    c.onPush('/news', (m) => void httpPushes.push(m.text));
    c.route('/client/ask', (q) => `answer to ${q} over ${c.transport}`);
    await within(c.ready(), 'http client ready');
    same(c.transport, 'http', 'client.transport');
    same(await within(c.call('/math/add', { a: 7, b: 8 }), '/math/add over http'), 15, '/math/add over http');
    const missing = await rejection((c as unknown as Untyped).call('/no/such/route'), 'unknown route over http');
    same(missing.code, 404, 'status over http');
    await within(c.call('/ctl/push-me', { text: 'http push' }), 'push over http');
    await until(() => httpPushes.length === 1, 'the push over http');
    same(httpPushes, ['http push'], 'pushes over http');
    same(await within(c.call('/ctl/ask-me', 'fallback'), '/ctl/ask-me over http'), 'answer to fallback over http', 'server → client call');
    const many = await within(Promise.all(Array.from({ length: 200 }, (_, i) => c.call('/math/add', { a: i, b: 1 }))), '200 calls at once');
    same(
      many,
      Array.from({ length: 200 }, (_, i) => i + 1),
      '200 calls at once (batched POSTs and batch events)',
    );
    await within(c.close(), 'http client close');
  });

  await run('close', async () => {
    await within(client.close(), 'client.close()');
    same(client.state, 'closed', 'state');
    const err = await rejection(client.call('/math/add', { a: 1, b: 1 }), 'a call after close');
    same(err.code, 102, 'a call after close settles with 102');
  });

  // Whatever failed above, nothing stays open: a runtime that cannot exit says so by timing out.
  await Promise.allSettled(opened.map((c) => within(c.close(), 'closing a client')));
  for (const name of SCENARIOS) if (!results.some((r) => r.name === name)) throw new Error(`scenario ${name} never ran`);
  return results;
}
