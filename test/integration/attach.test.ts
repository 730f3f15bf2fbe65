/** attach(): the endpoint shares an http.Server with other HTTP handlers and other WebSocket users. */
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { describe, test } from 'node:test';
import { WebSocketServer } from 'ws';
import { createEndpoint } from '../../adapters/node/endpoint.ts';
import { Harness, rawDial, until, WS_ONLY, withSuiteAuth } from './helpers.ts';

describe('attach beside other handlers', { timeout: 30_000 }, () => {
  test('plain requests and upgrades on other paths stay with their owners; drpc works on its path', WS_ONLY, async (t) => {
    const h = new Harness(t);
    const { server, port } = await h.httpServer((req, res) => {
      res.writeHead(req.url === '/health' ? 200 : 404, { 'content-type': 'text/plain' }).end(req.url === '/health' ? 'ok' : 'nope');
    });
    // another WebSocket user on the same server (as a chat library beside us would be)
    const other = new WebSocketServer({ noServer: true });
    h.defer(() => new Promise<void>((r) => other.close(() => r())));
    other.on('connection', (ws) => ws.send('hello from /other'));
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (req.url === '/other') other.handleUpgrade(req, socket, head, (ws) => other.emit('connection', ws, req));
    });
    const ep = createEndpoint(withSuiteAuth({ onError: () => {} })).attach(server, { path: '/rpc' });
    h.defer(() => ep.close({ drain: 0 }));
    ep.route('/sum', (xs: any) => xs.reduce((a: number, b: number) => a + b, 0));

    const c = h.client(`ws://127.0.0.1:${port}/rpc`);
    assert.equal(await c.call('/sum', [1, 2, 3]), 6);

    const health = await fetch(`http://127.0.0.1:${port}/health`);
    assert.deepEqual([health.status, await health.text()], [200, 'ok']);
    const notUpgraded = await fetch(`http://127.0.0.1:${port}/rpc`);
    assert.equal(notUpgraded.status, 404, 'a plain request to the drpc path is left to the server owner');

    const theirs = await rawDial(`ws://127.0.0.1:${port}/other`);
    assert.equal(theirs.open, true);
    if (!theirs.open) return;
    h.defer(() => theirs.ws.terminate(), true);
    await until(() => theirs.peer.frames.length === 1, 'the greeting from /other');
    assert.equal(theirs.peer.frames[0], 'hello from /other');
    assert.equal(ep.sessions.count, 1, 'the endpoint did not take the /other upgrade');

    // closing the endpoint detaches it and leaves the server running
    await c.close();
    await ep.close({ drain: 0 });
    const stillUp = await fetch(`http://127.0.0.1:${port}/health`);
    assert.equal(stillUp.status, 200);
    const again = await rawDial(`ws://127.0.0.1:${port}/other`);
    assert.equal(again.open, true);
    if (again.open) again.ws.terminate();
  });

  test('two endpoints on two paths of one server serve their own routes and hubs', async (t) => {
    const h = new Harness(t);
    const { server, port } = await h.httpServer();
    const a = createEndpoint(withSuiteAuth({ onError: () => {} })).attach(server, { path: '/a', http: true });
    const b = createEndpoint(withSuiteAuth({ onError: () => {} })).attach(server, { path: '/b', http: true });
    h.defer(() => Promise.all([a.close({ drain: 0 }), b.close({ drain: 0 })]));
    a.route('/who', () => 'a');
    b.route('/who', () => 'b');
    const ca = h.client(`ws://127.0.0.1:${port}/a`);
    const cb = h.client(`ws://127.0.0.1:${port}/b`);
    assert.deepEqual(await Promise.all([ca.call('/who'), cb.call('/who')]), ['a', 'b']);
    await until(() => a.sessions.count === 1 && b.sessions.count === 1, 'one session each');
  });
});
