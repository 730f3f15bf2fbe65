/** Node-only parts: the server endpoint (WebSocket on http.Server, plain TCP), the TCP client, and a fault-injection proxy for tests. */
export { createEndpoint, Endpoint, type EndpointOptions, type EndpointEvents, type EndpointStats, type UpgradeInfo } from './endpoint.ts';
export { SessionHub } from './hub.ts';
export { NodeWebSocketTransport } from './ws-transport.ts';
export { NodeTcpTransport, dialTcp, type DialTcpOptions, type TcpTransportOptions } from './tcp.ts';
export { Rooms } from './rooms.ts';
export type { Presence, PresenceOptions, PresentSession } from './presence.ts';
export { nodeFetch } from '../../src/transport/node-fetch.ts';
export { faultProxy, type FaultProxy, type FaultProxyOptions } from './fault-proxy.ts';
