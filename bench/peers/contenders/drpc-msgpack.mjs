// drpc for TypeScript (this repository): RAW proto in binary WebSocket frames, msgpack body codec.
import { connectDrpcClient, startDrpcServer } from './_drpc-common.mjs';

export const info = {
  id: 'drpc-msgpack',
  label: 'drpc (this repo): RAW binary frames, msgpack codec',
  packages: ['ws'],
  push: true,
  persistent: true,
  notes: 'As drpc, with the msgpack codec (drpc/msgpack, our own encoder and decoder) on both sides.',
};

export const startServer = (opts) => startDrpcServer(opts, 'msgpack');
export const connectClient = (baseUrl) => connectDrpcClient(baseUrl, 'msgpack');
