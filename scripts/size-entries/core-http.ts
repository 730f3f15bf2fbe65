// Size budget entry: the client core plus everything the HTTP fallback transport exports (`drpc/http`).
export { connect, DrpcError, Code } from '../../src/index.ts';
export * as http from '../../src/transport/http.ts';
