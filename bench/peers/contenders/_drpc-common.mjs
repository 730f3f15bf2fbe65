// Shared by drpc.mjs and drpc-msgpack.mjs: this repository's built package (`npm run build` →
// dist/esm). echo = CALL /echo; subscribe = CALL /sub adds the session to the topic; publish =
// ep.broadcast() to the topic's sessions (one PUSH encoded and packed once). Topics with offsets and
// history arrive with the push/resume issue.
const dist = new URL('../../../dist/esm/', import.meta.url);

/** Session options for a codec: {} for json, a registry with msgpack for 'msgpack'. */
async function codecOptions(codec) {
  if (codec === 'json') return {};
  const { createCodecs } = await import(new URL('index.js', dist).href);
  const { msgpack } = await import(new URL('msgpack.js', dist).href);
  return { codecs: createCodecs(msgpack), codec: 'msgpack' };
}

export async function startDrpcServer({ httpServer }, codec, { http = false } = {}) {
  const { createEndpoint } = await import(new URL('node.js', dist).href);
  const ep = createEndpoint({ onError: () => {}, ...(process.env.DRPC_CACHE === '0' ? { replyCache: false } : {}), ...(await codecOptions(codec)) });
  const topics = new Map();
  ep.route('/echo', (body) => body);
  ep.route('/sub', (topic, ctx) => {
    let s = topics.get(topic);
    if (!s) topics.set(topic, (s = new Set()));
    s.add(ctx.session);
    ctx.session.on('close', () => s.delete(ctx.session));
    return true;
  });
  ep.attach(httpServer, { path: '/', http });
  return {
    publish(topic, msg) {
      const s = topics.get(topic);
      if (s) ep.broadcast('/msg', msg, { to: s });
    },
    async close() {
      await ep.close({ drain: 0 });
    },
  };
}

export async function connectDrpcClient(baseUrl, codec, { http = false } = {}) {
  const { connect } = await import(new URL('index.js', dist).href);
  const transports = http ? [(await import(new URL('http.js', dist).href)).http] : ['websocket'];
  // A Node client over HTTP passes drpc/node's fetch over node:http (the default is Node's own fetch).
  const fetch = http ? (await import(new URL('node.js', dist).href)).nodeFetch() : undefined;
  const client = connect(baseUrl.replace(/^http/, 'ws') + '/', { heartbeat: false, reconnect: false, transports, fetch, durableCalls: process.env.DRPC_DURABLE !== '0', ...(await codecOptions(codec)) });
  await client.ready();
  const handlers = new Map();
  client.onPush('/msg', (m) => {
    for (const h of handlers.values()) h(m);
  });
  return {
    call: (payload) => client.call('/echo', payload),
    async subscribe(topic, onMsg) {
      handlers.set(topic, onMsg);
      await client.call('/sub', topic);
    },
    close() {
      client.close();
    },
  };
}
