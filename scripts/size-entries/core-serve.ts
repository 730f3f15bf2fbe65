// Size entry (no target in the issue; a CI ceiling): the client core plus serving calls from the
// server, as an app whose page the server calls uses them: connect(url, { serve: serveCalls }).
export { connect, DrpcError, Code, serveCalls } from '../../src/index.ts';
