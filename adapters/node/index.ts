/** Node-only parts: the server endpoint (WebSocket on http.Server). */
export { createEndpoint, Endpoint, type EndpointOptions, type EndpointEvents, type UpgradeInfo } from './endpoint.ts';
export { SessionHub } from './hub.ts';
export { NodeWebSocketTransport } from './ws-transport.ts';
