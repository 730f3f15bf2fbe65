// Size budget entry "client core", measured like the peers in bench/RESULTS.md (a minimal real use):
// what an app that calls connect() pays. connect() brings the WebSocket transport, RAW and JSON
// protos, the json codec, reconnect, heartbeat, subscriptions and resume.
export { connect, DrpcError, Code } from '../../src/index.ts';
