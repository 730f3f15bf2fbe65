// Size budget entry: the client core plus the HTTP fallback (`drpc/http`), as an app that falls back
// uses them: connect(url, { transports: ['websocket', http] }).
export { connect, DrpcError, Code } from '../../src/index.ts';
export { http } from '../../src/transport/http.ts';
