// drpc for TypeScript (this repository) over its HTTP fallback: frames up in POSTs, down one
// streamed response (SSE framing read through fetch); RAW proto, json body codec.
import { connectDrpcClient, startDrpcServer } from './_drpc-common.mjs';

export const info = {
  id: 'drpc-http',
  label: 'drpc (this repo), HTTP fallback: POST up, streamed response down',
  packages: [],
  push: true,
  persistent: true,
  notes: "Client connect() with transports: [http] from drpc/http (node:http in Node), heartbeat and redial off; endpoint attach(server, { http: true }); publish = ep.broadcast().",
};

export const startServer = (opts) => startDrpcServer(opts, 'json', { http: true });
export const connectClient = (baseUrl) => connectDrpcClient(baseUrl, 'json', { http: true });
