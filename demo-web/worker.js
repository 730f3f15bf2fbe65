// A second drpc client, inside a module Web Worker: connect, one call, report back, close.
import { connect } from '/drpc.js';
import { http } from '/drpc-http.js';

self.onmessage = async ({ data }) => {
  const client = connect(data.url, { transports: ['websocket', http], reconnect: false, upgradeInterval: 3000 });
  try {
    await client.ready();
    const t0 = performance.now();
    const value = await client.call(data.method, { a: data.a, b: data.b }, { timeout: 5000 });
    const inWorker = typeof WorkerGlobalScope !== 'undefined' && self instanceof WorkerGlobalScope;
    self.postMessage({ ok: true, value, ms: performance.now() - t0, transport: client.transport, inWorker });
  } catch (err) {
    self.postMessage({ ok: false, error: String(err?.message ?? err) });
  } finally {
    await client.close();
  }
};
