// An app that installed the packed `drpc` tarball: plain JavaScript with bare imports, no TypeScript
// loader, run by package.test.ts in Node, Deno and Bun from a scratch folder. Prints one JSON line.
/* global console, setTimeout */
import { connect, createCodecs, Code, DrpcError } from 'drpc';
import { createEndpoint } from 'drpc/node';
import { http } from 'drpc/http';
import { msgpack } from 'drpc/msgpack';
import { redisBroker } from 'drpc/redis';

const codecs = createCodecs(msgpack);
const ep = createEndpoint({ codecs });
ep.route('/math/add', ({ a, b }) => a + b);
ep.topic('/ticks');
const { url } = await ep.listen({ path: '/rpc' });

const overWs = connect(url, { heartbeat: false });
const overHttp = connect(url, { transports: [http], heartbeat: false });
const withMsgpack = connect(url, { codecs, codec: 'msgpack', heartbeat: false });
const got = [];
await overWs.subscribe('/ticks', (m) => void got.push(m)).ready;
for (const n of [1, 2, 3]) ep.publish('/ticks', n);
for (let end = Date.now() + 5000; got.length < 3 && Date.now() < end;) await new Promise((r) => setTimeout(r, 10));
const missing = await overWs.call('/nope').catch((e) => (e instanceof DrpcError ? e.code : String(e)));

console.log(
  JSON.stringify({
    ws: await overWs.call('/math/add', { a: 1, b: 2 }),
    http: await overHttp.call('/math/add', { a: 3, b: 4 }),
    httpTransport: overHttp.transport,
    msgpack: await withMsgpack.call('/math/add', { a: 5, b: 6 }),
    topic: got,
    missing: missing === Code.NotFound ? 'not found' : missing,
    redisBroker: typeof redisBroker,
  }),
);
await Promise.all([overWs, overHttp, withMsgpack].map((c) => c.close()));
await ep.close({ drain: 0 });
