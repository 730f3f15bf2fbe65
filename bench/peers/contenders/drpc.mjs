// drpc for TypeScript (this repository): RAW proto in binary WebSocket frames, json body codec.
import { connectDrpcClient, startDrpcServer } from './_drpc-common.mjs';

export const info = {
  id: 'drpc',
  label: 'drpc (this repo): RAW binary frames, json codec',
  packages: ['ws'],
  push: true,
  persistent: true,
  notes: 'Client connect() with defaults (30 s call timeout, offline queue) except heartbeat and redial off; endpoint attach() on the given server; publish = ep.broadcast().',
};

export const startServer = (opts) => startDrpcServer(opts, 'json');
export const connectClient = (baseUrl) => connectDrpcClient(baseUrl, 'json');
