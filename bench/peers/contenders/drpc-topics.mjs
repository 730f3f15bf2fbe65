// drpc for TypeScript (this repository): the product path for realtime pushes — topics with offsets,
// epochs and a history kept for resume (ep.topic / ep.publish / client.subscribe), RAW + json.
const dist = new URL('../../../dist/esm/', import.meta.url);

export const info = {
  id: 'drpc-topics',
  label: 'drpc (this repo): topics with history (offsets, resume), RAW + json',
  packages: ['ws'],
  push: true,
  persistent: true,
  notes: 'Every message gets an offset and is kept in a 1000-message history per topic; subscribers dedupe by offset.',
};

export async function startServer({ httpServer, topics }) {
  const { createEndpoint } = await import(new URL('node.js', dist).href);
  const ep = createEndpoint({ onError: () => {} });
  for (const t of topics ?? []) ep.topic(t);
  ep.route('/echo', (body) => body);
  ep.attach(httpServer, { path: '/' });
  return {
    publish(topic, msg) {
      ep.publish(topic, msg);
    },
    async close() {
      await ep.close({ drain: 0 });
    },
  };
}

export async function connectClient(baseUrl) {
  const { connect } = await import(new URL('index.js', dist).href);
  const client = connect(baseUrl.replace(/^http/, 'ws') + '/', { heartbeat: false, reconnect: false });
  await client.ready();
  return {
    call: (payload) => client.call('/echo', payload),
    async subscribe(topic, onMsg) {
      await client.subscribe(topic, (m) => onMsg(m)).ready;
    },
    close() {
      client.close();
    },
  };
}
