// Size budget entry: the client core plus the msgpack codec (`drpc/msgpack`).
export { connect, DrpcError, Code } from '../../src/index.ts';
export { msgpack, msgpackCodec } from '../../src/codec/msgpack.ts';
