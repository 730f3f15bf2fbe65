/**
 * A runnable tour of the core over the in-memory transport: two peers, calls both ways, meta,
 * pushes, a gzip transfer filter, a drpc error status, a timeout and an abort. Run: npm run demo:memory
 */
import { Code, DrpcError, Session, createFilters, gzip, memoryPair, rawProto } from '../src/index.ts';
import { serveCalls } from '../src/serve.ts';

const [clientEnd, serverEnd] = memoryPair(['mem:client', 'mem:server']);
// Transfer filters are opt-in (a browser bundle holds them only when imported): both sides take gzip and md5.
const proto = rawProto({ filters: createFilters() });
const server = new Session(serverEnd, { serve: serveCalls, proto });
const client = new Session(clientEnd, { serve: serveCalls, proto });

// Server routes: a typed-looking call, one that fails with a drpc status, one that pushes.
server.router.route('/math/add', (body) => {
  const { a, b } = body as { a: number; b: number };
  return a + b;
});
server.router.route('/math/divide', (body) => {
  const { a, b } = body as { a: number; b: number };
  if (b === 0) throw new DrpcError(Code.BadMessage, 'division by zero', `a=${a}`);
  return a / b;
});
server.router.route('/chat/join', async (body, ctx) => {
  const { room } = body as { room: string };
  for (let i = 1; i <= 3; i++) await ctx.session.push('/chat/msg', { room, text: `message ${i}` });
  ctx.replyMeta['joined'] = room;
  return { ok: true };
});
server.router.route('/slow', () => new Promise((r) => setTimeout(() => r('late'), 200)));

// The client also serves a route: drpc is peer-to-peer, so the server may call it.
client.router.route('/ui/confirm', (question) => `client says yes to: ${question}`);
client.router.routePush('/chat/msg', (msg) => console.log('push   /chat/msg', msg));

console.log('call   /math/add', await client.call('/math/add', { a: 1, b: 2 }));
console.log('call   /math/add (gzip pipe)', await client.call('/math/add', { a: 40, b: 2 }, { pipe: [gzip.id] }));
try {
  await client.call('/math/divide', { a: 1, b: 0 });
} catch (err) {
  const e = err as DrpcError;
  console.log(`error  /math/divide → code ${e.code} "${e.message}" cause "${e.causeText}"`);
}
const joined = await client.callReply('/chat/join', { room: 'lobby' });
console.log('call   /chat/join', joined.value, 'reply meta', joined.meta);
console.log('server→client call /ui/confirm:', await server.call('/ui/confirm', 'ship it?'));
await client.call('/slow', null, { timeout: 50 }).catch((e: DrpcError) => console.log(`timeout /slow → ${e.code} ${e.message}`));
const ac = new AbortController();
const pending = client.call('/slow', null, { signal: ac.signal });
ac.abort();
await pending.catch((e: DrpcError) => console.log(`abort  /slow → ${e.code} ${e.message}`));
await client.close();
console.log('closed:', client.state, server.state);
