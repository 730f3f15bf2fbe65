// drpc for TypeScript (this repository, built with `npm run build`): RAW proto in binary WebSocket
// frames, json body codec. echo = CALL /echo; subscribe = CALL /sub adds the session to the topic;
// publish = one PUSH per subscriber session (topics with offsets and history arrive with issue 5).
export const info = {
  id: 'drpc-msgpack',
  label: 'drpc (this repo): RAW binary frames, msgpack codec',
  packages: ['ws'],
  push: true,
  persistent: true,
  notes: 'Client connect() with defaults (30 s call timeout, offline queue) except heartbeat and redial off; endpoint attach() on the given server.',
};

const dist = new URL('../../../dist/esm/', import.meta.url);

export async function startServer({ httpServer }) {
  const { createEndpoint } = await import(new URL('node.js', dist).href);
  const { createCodecs } = await import(new URL('index.js', dist).href);
  const { msgpack } = await import(new URL('msgpack.js', dist).href);
  const ep = createEndpoint({ onError: () => {}, codecs: createCodecs(msgpack), codec: 'msgpack' });
  const topics = new Map();
  ep.route('/echo', (body) => body);
  ep.route('/sub', (topic, ctx) => {
    let s = topics.get(topic);
    if (!s) topics.set(topic, (s = new Set()));
    s.add(ctx.session);
    ctx.session.on('close', () => s.delete(ctx.session));
    return true;
  });
  ep.attach(httpServer, { path: '/' });
  return {
    publish(topic, msg) {
      const s = topics.get(topic);
      if (!s) return;
      ep.broadcast('/msg', msg, { to: s });
    },
    async close() {
      await ep.close({ drain: 0 });
    },
  };
}

export async function connectClient(baseUrl) {
  const { connect, createCodecs } = await import(new URL('index.js', dist).href);
  const { msgpack } = await import(new URL('msgpack.js', dist).href);
  const client = connect(baseUrl.replace(/^http/, 'ws') + '/', {
    heartbeat: false,
    reconnect: false,
    timeout: 0,
    codecs: createCodecs(msgpack),
    codec: 'msgpack',
  });
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
