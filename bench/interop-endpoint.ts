/** The Node side of bench/interop.ts: an endpoint serving /math/add over WebSocket and TCP. Prints READY. */
import { createEndpoint } from '../adapters/node/index.ts';

const [wsPort, tcpPort] = process.argv.slice(2).map(Number);
const ep = createEndpoint({ onError: () => {} });
ep.route('/math/add', (body) => {
  const { a, b } = body as { a: number; b: number };
  return a + b;
});
await ep.listen({ port: wsPort, path: '/ws' });
await ep.listenTcp({ port: tcpPort });
console.log('READY');
process.on('SIGTERM', () => void ep.close({ drain: 0 }).then(() => process.exit(0)));
