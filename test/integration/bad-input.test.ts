/**
 * Bad input from either side: the offending session is closed with a status (or answered with one
 * where drpc keeps the session), everyone else is served on, nothing hangs, nothing settles twice,
 * and no promise rejection goes unhandled.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, test } from 'node:test';
import { WebSocketServer, type WebSocket } from 'ws';
import { MType } from '../../src/message.ts';
import { Code, codeText } from '../../src/status.ts';
import {
  Harness,
  Settlements,
  decodeJson,
  delay,
  onlySession,
  packRaw,
  recordUnhandled,
  rejection,
  unpackRaw,
  until,
  warnings,
  within,
  WS_ONLY,
  RAW_WS_ONLY,
} from './helpers.ts';

/** Deterministic pseudo-random bytes (mulberry32). */
function randomBytes(seed: number, n: number): Uint8Array {
  let a = seed >>> 0;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = (t ^ (t >>> 14)) & 0xff;
  }
  return out;
}

/** A RAW frame with a correct length prefix around `rest` (version byte, pipe, payload). */
function framed(rest: number[] | Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + rest.length);
  new DataView(out.buffer).setUint32(0, out.length);
  out.set(rest, 4);
  return out;
}

const enc = (s: string) => new TextEncoder().encode(s);

/** A plain `ws` server playing a misbehaving drpc server: `onConnection` decides what it sends. */
async function fakeServer(h: Harness, onConnection: (ws: WebSocket) => void): Promise<string> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  wss.on('connection', (ws) => {
    ws.on('error', () => {});
    onConnection(ws);
  });
  h.defer(async () => {
    for (const ws of wss.clients) ws.terminate();
    await new Promise<void>((r) => wss.close(() => r()));
  });
  return `ws://127.0.0.1:${(wss.address() as net.AddressInfo).port}/rpc`;
}

/** Answers every CALL with a REPLY echoing its body (what a minimal drpc server does). */
function echoCalls(ws: WebSocket): void {
  ws.on('message', (data: Buffer) => {
    const m = unpackRaw(data);
    if (m.mtype === MType.Call) ws.send(packRaw({ seq: m.seq, mtype: MType.Reply, bodyCodec: m.bodyCodec, body: m.body }));
  });
}

describe('bad input from a peer of the endpoint', { timeout: 30_000 }, () => {
  test('garbage frames close only the sending session, each with a status naming the problem', async (t) => {
    const h = new Harness(t);
    const unhandled = recordUnhandled(h);
    const { ep, url, errors } = await h.endpoint();
    ep.route('/echo', (b) => b);
    const good = h.client(url);
    await good.ready();

    const gzipId = 'z'.charCodeAt(0);
    const cases: { name: string; frame: Uint8Array | string; code: number; reason?: RegExp }[] = [
      { name: 'empty binary frame', frame: new Uint8Array(0), code: 4400, reason: /truncated/ },
      { name: 'length field disagrees', frame: new Uint8Array([0, 0, 0, 99, 1, 0, 1]), code: 4400, reason: /length field/ },
      { name: 'length beyond the limit', frame: new Uint8Array([0xff, 0xff, 0xff, 0xff, 1, 0]), code: 4400, reason: /exceeds/ },
      { name: 'payload cut inside the seq', frame: framed([1, 0, 9, 0x31]), code: 4400, reason: /truncated in seq/ },
      { name: 'seq not base-36', frame: framed([1, 0, 1, 0x2a, 1, 0, 0, 0, 0, 0, 0]), code: 4400, reason: /seq/ },
      { name: 'unknown transfer filter', frame: framed([1, 1, 0xee, 1, 0x31]), code: 4400, reason: /unsupported transfer filter id 238/ },
      { name: 'gzip pipe over garbage', frame: framed([1, 1, gzipId, ...randomBytes(7, 40)]), code: 4400 },
      { name: 'mtype 99', frame: packRaw({ seq: 5, mtype: 99, serviceMethod: '/echo' }), code: 4405, reason: /got Unknown \(99\)/ },
      { name: 'text: not JSON', frame: 'hello there', code: 4400, reason: /not valid JSON/ },
      { name: 'text: an array', frame: '[1,2,3]', code: 4400, reason: /not an object/ },
      { name: 'text: seq out of range', frame: '{"seq":1e12,"mtype":1}', code: 4400, reason: /"seq" is out of range/ },
      { name: 'text: empty object (mtype 0)', frame: '{}', code: 4405 },
      ...[1, 2, 3, 4, 5, 6, 7, 8].map((seed) => ({ name: `random bytes #${seed}`, frame: randomBytes(seed, 3 + seed * 7), code: 4400 })),
    ];
    const results = await Promise.all(
      cases.map(async (c) => {
        const peer = await h.raw(url);
        peer.ws.send(c.frame);
        const closed = await within(peer.closed, 3000, c.name);
        return { c, closed, replies: peer.frames.length };
      }),
    );
    for (const { c, closed, replies } of results) {
      assert.equal(closed.code, c.code, `${c.name}: close code (${closed.reason})`);
      if (c.reason) assert.match(closed.reason, c.reason, c.name);
      assert.ok(closed.reason.length > 0, `${c.name}: the close names the problem`);
      assert.equal(replies, 0, `${c.name}: nothing is sent back`);
    }
    assert.ok(errors.length >= cases.length, 'each bad frame is reported through onError');
    assert.ok(errors.every((e) => e.err.code === Code.BadMessage || e.err.code === Code.MTypeNotAllowed));
    await until(() => ep.sessions.count === 1, 'only the good session left');
    assert.equal(await good.call('/echo', 'still served'), 'still served');
    assert.deepEqual(unhandled, []);
  });

  test('bad bodies and names get an error REPLY and the session survives (as drpc)', async (t) => {
    const h = new Harness(t);
    const { ep, url, errors } = await h.endpoint();
    ep.route('/echo', (b) => b);
    ep.routePush('/note', () => {});
    const peer = await h.raw(url);
    peer.send({ seq: 1, mtype: MType.Call, serviceMethod: '/echo', bodyCodec: 200, body: enc('?') });
    const unknownCodec = await peer.nextMessage();
    assert.deepEqual([unknownCodec.seq, unknownCodec.mtype, unknownCodec.status.code], [1, MType.Reply, Code.BadMessage]);
    peer.send({ seq: 2, mtype: MType.Call, serviceMethod: '/echo', bodyCodec: 106, body: enc('{"a":') });
    assert.equal((await peer.nextMessage()).status.code, Code.BadMessage);
    peer.send({ seq: 3, mtype: MType.Call, serviceMethod: '' }, 1);
    const noName = await peer.nextMessage();
    assert.deepEqual([noName.seq, noName.status.code], [3, Code.BadMessage]);
    peer.send({ seq: 4, mtype: MType.Push, serviceMethod: '/note', bodyCodec: 106, body: enc('nope') }); // dropped, reported
    peer.send({ seq: 5, mtype: MType.Call, serviceMethod: '/echo' }, { fine: true });
    const ok = await peer.nextMessage();
    assert.deepEqual([ok.seq, ok.status.code, decodeJson(ok)], [5, 0, { fine: true }]);
    assert.equal(peer.frames.length, 4, 'no reply to the PUSH');
    assert.ok(errors.some((e) => e.err.code === Code.BadMessage && /push|body|json/i.test(e.err.message + e.err.causeText)));
    assert.equal(ep.sessions.count, 1);
  });

  test('a REPLY for an unknown seq is ignored; a duplicate REPLY settles nothing twice', async (t) => {
    const h = new Harness(t);
    const { ep, url } = await h.endpoint();
    ep.route('/echo', (b) => b);
    const peer = await h.raw(url);
    peer.send({ seq: 999, mtype: MType.Reply }, 'nobody asked');
    peer.send({ seq: 1, mtype: MType.Call, serviceMethod: '/echo' }, 'after the stray reply');
    assert.equal(decodeJson(await peer.nextMessage()), 'after the stray reply');

    const s = await onlySession(ep);
    const settled = new Settlements();
    const p = settled.track('call', s.call('/ui/ask', 'q?'));
    const call = await peer.nextMessage();
    assert.deepEqual([call.mtype, call.serviceMethod], [MType.Call, '/ui/ask']);
    peer.send({ seq: call.seq, mtype: MType.Reply }, 'first answer');
    peer.send({ seq: call.seq, mtype: MType.Reply }, 'second answer');
    peer.send({ seq: call.seq, mtype: MType.Reply, status: { code: 500, msg: 'late', cause: '' } });
    assert.equal(await p, 'first answer');
    await delay(30);
    assert.equal(settled.count('call'), 1);
    assert.equal(s.state, 'open');
  });

  test('AUTH_CALL after the handshake closes the session with 405 and no reply', async (t) => {
    const h = new Harness(t);
    const { ep, url } = await h.endpoint();
    ep.route('/echo', (b) => b);
    const peer = await h.raw(url);
    peer.send({ seq: 1, mtype: MType.Call, serviceMethod: '/echo' }, 1);
    await peer.nextMessage();
    peer.send({ seq: 2, mtype: MType.AuthCall }, { token: 'late' });
    const closed = await within(peer.closed, 2000, 'the close');
    assert.equal(closed.code, 4405);
    assert.match(closed.reason, /got AUTH_CALL \(4\) after the handshake/);
    assert.equal(peer.frames.length, 1, 'no reply to the AUTH_CALL');
  });

  test('a peer that resets during an async verifyUpgrade, and malformed upgrades, do not take the endpoint down', WS_ONLY, async (t) => {
    const h = new Harness(t);
    const unhandled = recordUnhandled(h);
    let verifying = 0;
    const { ep, url, port } = await h.endpoint({
      verifyUpgrade: async ({ url: u }) => {
        verifying++;
        await delay(60);
        if (u.searchParams.get('t') === 'bad') throw new Error('no');
      },
    });
    ep.route('/hi', () => 'hi');
    const upgrade = (path: string, key = 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n') =>
      `GET ${path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n${key}Sec-WebSocket-Version: 13\r\n\r\n`;
    for (const path of ['/rpc?t=bad', '/rpc?t=ok']) {
      const s = net.connect(port, '127.0.0.1');
      s.on('error', () => {});
      await new Promise((r) => s.once('connect', r));
      s.write(upgrade(path));
      const before = verifying;
      await until(() => verifying > before, 'verifyUpgrade to start');
      s.resetAndDestroy();
    }
    await delay(120); // both verifications finish against dead sockets
    // an upgrade without a key: ws answers 400 itself
    const s = net.connect(port, '127.0.0.1');
    s.setEncoding('utf8');
    let answer = '';
    s.on('data', (d: string) => (answer += d));
    await new Promise((r) => s.once('connect', r));
    s.write(upgrade('/rpc', ''));
    await until(() => answer.length > 0, 'an answer to the malformed upgrade');
    s.destroy();
    assert.match(answer, /^HTTP\/1\.1 400/);
    // a plain GET on the drpc path: 426 with a drpc status body
    const res = await fetch(`http://127.0.0.1:${port}/rpc`);
    assert.equal(res.status, 426);
    assert.match(((await res.json()) as { cause: string }).cause, /^this path speaks drpc over WebSocket, or over HTTP/);

    const c = h.client(url);
    assert.equal(await c.call('/hi'), 'hi');
    assert.deepEqual(unhandled, []);
  });
});

describe('bad input from the server side, at the client', { timeout: 30_000 }, () => {
  test('garbage from the server: the client closes that session with 400, settles its calls 102 once, redials', RAW_WS_ONLY, async (t) => {
    const h = new Harness(t);
    const unhandled = recordUnhandled(h);
    let connections = 0;
    const url = await fakeServer(h, (ws) => {
      connections++;
      if (connections === 1)
        ws.on('message', () => ws.send(Buffer.from([0, 0, 0, 7, 1, 0, 0xff]))); // answers its first frame with junk
      else echoCalls(ws);
    });
    const { client: c, log } = h.logged(url);
    const settled = new Settlements();
    const err = await rejection(settled.track('first', c.call('/echo', 1)));
    assert.equal(err.code, Code.ConnClosed);
    const lost = await log.waitFor('reconnecting');
    assert.equal(lost.status?.code, Code.BadMessage);
    assert.match(lost.reason, /bad frame/);
    await log.waitFor('open', log.events.indexOf(lost));
    assert.equal(await c.call('/echo', 'ok'), 'ok');
    await delay(20);
    assert.equal(settled.count('first'), 1);
    assert.ok(
      warnings.some((w) => /truncated/.test(w)),
      'the bad frame was reported',
    );
    assert.deepEqual(unhandled, []);
  });

  test('a stray REPLY (unknown seq) is ignored by the client; a server AUTH_CALL after the handshake is 405', RAW_WS_ONLY, async (t) => {
    const h = new Harness(t);
    let n = 0;
    const url = await fakeServer(h, (ws) => {
      n++;
      if (n === 1) {
        ws.send(packRaw({ seq: 4242, mtype: MType.Reply }, 'stray'));
        echoCalls(ws);
      } else ws.once('message', () => ws.send(packRaw({ seq: 1, mtype: MType.AuthCall }, 'surprise')));
    });
    const { client: c, log } = h.logged(url);
    await c.ready();
    assert.equal(await c.call('/echo', 'after stray'), 'after stray');
    assert.equal(c.state, 'open');
    // second connection: the server answers a CALL with an AUTH_CALL on the open session
    c.session!.abort({ code: Code.ConnClosed, msg: codeText(Code.ConnClosed), cause: 'test: drop it' });
    const rec = await log.waitFor('reconnecting');
    assert.equal(rec.status?.code, Code.ConnClosed);
    await log.waitFor('open', log.events.indexOf(rec));
    const settled = new Settlements();
    assert.equal((await rejection(settled.track('call', c.call('/echo', 'x')))).code, Code.ConnClosed);
    const bad = await log.waitFor('reconnecting', log.events.indexOf(rec) + 1);
    assert.equal(bad.status?.code, Code.MTypeNotAllowed);
    assert.match(bad.status!.cause, /got AUTH_CALL \(4\) after the handshake/);
    await delay(20);
    assert.equal(settled.count('call'), 1);
  });

  test('a server that takes the TCP connection and never answers the upgrade: connect timeout (105), no crash', WS_ONLY, async (t) => {
    const h = new Harness(t);
    const unhandled = recordUnhandled(h);
    const sockets: net.Socket[] = [];
    const mute = net.createServer((s) => void sockets.push(s.on('error', () => {})));
    await new Promise<void>((r) => mute.listen(0, '127.0.0.1', () => r()));
    h.defer(() => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((r) => mute.close(() => r()));
    });
    const { port } = mute.address() as net.AddressInfo;
    const { log } = h.logged(`ws://127.0.0.1:${port}/rpc`, { connectTimeout: 100, reconnect: { attempts: 1, min: 5, max: 5 } });
    const rec = await log.waitFor('reconnecting');
    assert.equal(rec.status?.code, Code.DialFailed);
    assert.match(rec.status!.cause, /no answer within 100 ms/);
    const closed = await log.waitFor('closed');
    assert.equal(closed.status?.code, Code.DialFailed);
    assert.equal(sockets.length, 2);
    await delay(20); // `ws` reports the aborted handshake on the next tick
    assert.deepEqual(unhandled, []);
  });

  test('nothing settles twice: a storm of calls of every outcome across a dropped connection', async (t) => {
    const h = new Harness(t);
    const unhandled = recordUnhandled(h);
    const { ep, url } = await h.endpoint();
    let ran = 0;
    ep.route('/ok', (b) => (ran++, b));
    ep.route('/slow', async (ms: any) => {
      ran++;
      await delay(ms);
      return ms;
    });
    ep.route('/fail', () => {
      ran++;
      throw new Error('fail');
    });
    const c = h.client(url, { reconnect: { min: 10, max: 20 } });
    await c.ready();
    const settled = new Settlements();
    const outcomes: Promise<unknown>[] = [];
    for (let i = 0; i < 40; i++) {
      const name = `c${i}`;
      let p: Promise<unknown>;
      switch (i % 6) {
        case 0:
          p = c.call('/ok', i);
          break;
        case 1:
          p = c.call('/slow', 200, { timeout: 20 + i }); // timeout
          break;
        case 2: {
          const ac = new AbortController();
          setTimeout(() => ac.abort(), i);
          p = c.call('/slow', 200, { signal: ac.signal }); // abort
          break;
        }
        case 3:
          p = c.call('/fail');
          break;
        default:
          p = c.call('/slow', 500); // in flight at the drop: re-sent, answered once (durable)
          break;
        case 5:
          p = c.call('/slow', 500, { durable: false }); // in flight at the drop, fail-fast: 102
      }
      outcomes.push(settled.track(name, p).catch(() => {}));
    }
    await delay(100);
    const s = await onlySession(ep);
    ep.sessions.kick(s.id, { code: Code.InternalServerError, msg: codeText(500), cause: 'storm' });
    await within(Promise.all(outcomes), 3000, 'every call to settle');
    await delay(600); // late replies from the first session's handlers have nowhere to go
    assert.equal(settled.size, 40);
    for (let i = 0; i < 40; i++) assert.equal(settled.count(`c${i}`), 1, `c${i} settled once`);
    const codes = (k: number) =>
      settled.results.filter((r) => Number(r.name.slice(1)) % 6 === k).map((r) => (r.ok ? 'ok' : (r.value as { code: number }).code));
    assert.deepEqual(new Set(codes(0)), new Set(['ok']));
    assert.deepEqual(new Set(codes(1)), new Set([Code.HandleTimeout]));
    assert.deepEqual(new Set(codes(2)), new Set([Code.Canceled]));
    assert.deepEqual(new Set(codes(3)), new Set([Code.InternalServerError]));
    assert.deepEqual(new Set(codes(4)), new Set(['ok']));
    assert.deepEqual(new Set(codes(5)), new Set([Code.ConnClosed]));
    assert.equal(ran, 40, 'each call ran its handler once');
    assert.deepEqual(unhandled, []);
  });
});
