/**
 * A real DMicro client (test/interop/cmd/client, DMicro's own WebSocket mixer client with the RAW
 * sub-protocol, and its plain TCP client) against our Node endpoint: the whole matrix, DMicro's
 * heartbeat ping kept alive by our pong, a silent DMicro session closed by it, and auth both ways.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Endpoint } from '../../adapters/node/endpoint.ts';
import type { DrpcError } from '../../src/status.ts';
import { goBinary } from './go.ts';
import { GOOD_TOKEN, matrixEndpoint, runGo, runGoChecks, type CheckLine } from './peers.ts';

/** Every check cmd/client reports for one mode (a missing line fails as surely as a failed one). */
const MATRIX = [
  'dial',
  'call /math/add (json)',
  'echo body json',
  'echo body plain',
  'echo body bytes',
  'meta both ways',
  'status 400 /status/bad',
  'status 401 /status/unauth',
  'status 500 /status/internal',
  'status 1234 /status/custom',
  'status 404 /no/such/route',
  'push Node->Go',
  'push Go->Node',
  'call Node->Go',
  'gzip Go->Node call, reply piped',
  'gzip+md5 Go->Node call',
  'gzip Node->Go push',
  'gzip Node->Go call',
  'concurrent calls, out-of-order replies',
  '50 concurrent calls matched by seq',
  '1 MiB body',
  'session healthy at the end',
];
const HEARTBEAT = ['heartbeat: Go ping keeps the session alive', 'heartbeat: silent session closed by the Node pong'];
const AUTH = ['auth accepted', 'auth rejected'];

function assertChecks(mode: string, run: { code: number | null; lines: CheckLine[]; log: string }, expected: string[]): void {
  const failed = run.lines.filter((l) => !l.ok);
  const names = new Set(run.lines.map((l) => l.name));
  const missing = expected.map((n) => `${mode} ${n}`).filter((n) => !names.has(n));
  const report = [
    ...failed.map((l) => `FAIL ${l.name}: ${l.detail}`),
    ...missing.map((n) => `MISSING ${n}`),
    ...(failed.length || missing.length || run.code !== 0
      ? [`exit ${run.code}; endpoint errors: ${errors.join(' | ') || 'none'}; DMicro log tail:\n${run.log.slice(-3000)}`]
      : []),
  ].join('\n');
  assert.ok(run.code === 0 && failed.length === 0 && missing.length === 0, report);
  assert.equal(run.lines.length, expected.length, `unexpected extra checks: ${run.lines.map((l) => l.name).join(', ')}`);
}

let clientBin: string;
let smokeBin: string;
let ep: Endpoint;
let authEp: Endpoint;
const errors: string[] = [];
const ports = { ws: 0, tcp: 0, authWs: 0, authTcp: 0 };

// A test, not a hook: a Go build failure is then a failed test with the build's message (a failing
// hook only cancels the tests), and the tests below fail for want of the binary.
it('builds cmd/client and cmd/smoke (DMicro clients) and starts our endpoints', async () => {
  clientBin = goBinary('client');
  smokeBin = goBinary('smoke');
  const onError = (err: DrpcError) => void errors.push(`${err.code} ${err.message} ${err.causeText}`);
  ep = matrixEndpoint({ onError });
  authEp = matrixEndpoint({ onError, withAuth: true });
  [ports.ws, ports.tcp, ports.authWs, ports.authTcp] = await Promise.all([
    ep.listen({ path: '/ws' }).then((l) => l.port),
    ep.listenTcp().then((l) => l.port),
    authEp.listen({ path: '/ws' }).then((l) => l.port),
    authEp.listenTcp().then((l) => l.port),
  ]);
});

after(async () => {
  await Promise.all([ep?.close({ drain: 500 }), authEp?.close({ drain: 500 })]);
});

describe('interop: DMicro Go client → our Node endpoint', { concurrency: true, timeout: 60_000 }, () => {
  for (const mode of ['ws', 'tcp'] as const) {
    it(`over ${mode === 'ws' ? 'WebSocket (RAW sub-protocol)' : 'TCP'}: the matrix, heartbeat ping and pong`, async (t) => {
      const port = mode === 'ws' ? ports.ws : ports.tcp;
      const run = await runGoChecks(clientBin, ['-addr', `127.0.0.1:${port}`, '-mode', mode, '-checks', 'matrix,heartbeat']);
      assertChecks(mode, run, [...MATRIX, ...HEARTBEAT]);
      for (const l of run.lines) if (l.name.includes('heartbeat')) t.diagnostic(`${l.name}: ${l.detail}`);
    });

    it(`over ${mode === 'ws' ? 'WebSocket' : 'TCP'}: auth accepted (AUTH_REPLY "ok") and rejected (401 "invalid token")`, async () => {
      const port = mode === 'ws' ? ports.authWs : ports.authTcp;
      const run = await runGoChecks(clientBin, [
        '-addr',
        `127.0.0.1:${port}`,
        '-mode',
        mode,
        '-checks',
        'auth',
        '-token',
        GOOD_TOKEN,
        '-bad-token',
        'bad-token',
      ]);
      assertChecks(mode, run, AUTH);
    });
  }

  it("DMicro's JSON sub-protocol client (cmd/smoke -ws-json): JSON in binary frames, statuses lost as documented", async () => {
    // DMicro sends JSON sub-protocol messages in binary WebSocket frames: our endpoint must read them as JSON.
    // Over JSON the Go client sees every error REPLY as OK with an empty body (smoke checks exactly that).
    const run = await runGo(smokeBin, ['-ws-json', `${ports.ws}`]);
    assert.equal(run.code, 0, `cmd/smoke -ws-json failed (exit ${run.code}):\n${run.out}\n${run.log.slice(-2000)}`);
    assert.match(run.out, /^0 failure\(s\)$/m);
  });
});
