/**
 * Test support for the live interop suites: free ports, Go processes started and stopped by PID,
 * and a Node endpoint serving the routes cmd/client expects (the same matrix as cmd/server).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { createEndpoint, type Endpoint, type EndpointOptions } from '../../adapters/node/endpoint.ts';
import { Code, DrpcError, codeText } from '../../src/status.ts';
import { gzip } from '../../src/filter/gzip.ts';

/** A port that was free a moment ago on 127.0.0.1 (callers retry on the rare race). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export interface GoProcess {
  readonly pid: number;
  /** stderr so far (DMicro's logs), for failure messages. */
  readonly log: () => string;
  /** SIGTERM by PID, SIGKILL after 4 s; resolves once the process has exited. */
  stop(): Promise<void>;
}

/** Starts a long-running Go program and resolves once it printed READY on stdout. */
export function startGo(bin: string, args: string[], readyTimeout = 20_000): Promise<GoProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    let out = '';
    child.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-20_000)));
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    const proc: GoProcess = { pid: child.pid!, log: () => err, stop: () => stopChild(child, exited) };
    const timer = setTimeout(() => {
      void proc.stop();
      reject(new Error(`${bin} ${args.join(' ')}: no READY within ${readyTimeout} ms\n${err}`));
    }, readyTimeout);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (/^READY$/m.test(out)) {
        clearTimeout(timer);
        resolve(proc);
      }
    });
    child.once('error', (e) => (clearTimeout(timer), reject(e)));
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${bin} ${args.join(' ')} exited (${code ?? signal}) before READY\n${err}`));
    });
  });
}

function stopChild(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  process.kill(child.pid!, 'SIGTERM');
  const kill = setTimeout(() => child.exitCode === null && child.signalCode === null && process.kill(child.pid!, 'SIGKILL'), 4000);
  return exited.then(() => clearTimeout(kill));
}

export interface CheckLine {
  name: string;
  ok: boolean;
  detail: string;
}

/** Runs a Go program to its end; resolves with its exit code, stdout and stderr (tail). */
export function runGo(bin: string, args: string[], timeout = 90_000): Promise<{ code: number | null; out: string; log: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-20_000)));
    const timer = setTimeout(() => {
      if (child.exitCode === null) process.kill(child.pid!, 'SIGKILL');
    }, timeout);
    child.once('error', (e) => (clearTimeout(timer), reject(e)));
    // 'close', not 'exit': stdout may still hold the last lines when the process has exited
    child.once('close', (code) => (clearTimeout(timer), resolve({ code, out, log: err })));
  });
}

/** Runs cmd/client to its end and parses its JSON lines. */
export async function runGoChecks(bin: string, args: string[]): Promise<{ code: number | null; lines: CheckLine[]; log: string }> {
  const { code, out, log } = await runGo(bin, args);
  const lines: CheckLine[] = [];
  for (const l of out.split('\n')) {
    if (!l.trim()) continue;
    try {
      lines.push(JSON.parse(l) as CheckLine);
    } catch {
      lines.push({ name: 'unparsable output', ok: false, detail: l });
    }
  }
  return { code, lines, log };
}

export const GOOD_TOKEN = 'good-token';

/**
 * A Node endpoint with the routes cmd/client exercises (the same matrix as cmd/server). `auth`:
 * AUTH_CALL must carry GOOD_TOKEN (AUTH_REPLY "ok"), else 401 "invalid token".
 */
export function matrixEndpoint(options: EndpointOptions & { withAuth?: boolean } = {}): Endpoint {
  const { withAuth, ...rest } = options;
  const ep = createEndpoint({
    ...rest,
    auth: withAuth
      ? (payload) => {
          if (payload !== GOOD_TOKEN) throw new DrpcError(Code.Unauthorized, codeText(Code.Unauthorized), 'invalid token');
          return 'ok';
        }
      : undefined,
  });
  ep.route('/math/add', ({ a, b }: any) => a + b);
  ep.route('/echo/body', (body, ctx) => {
    if (ctx.bodyCodec) ctx.setReplyCodec(ctx.bodyCodec);
    return body;
  });
  ep.route('/echo/meta', (_body, ctx) => {
    Object.assign(ctx.replyMeta, ctx.meta);
    ctx.setReplyCodec('json');
    return { ...ctx.meta };
  });
  ep.route('/status/bad', () => {
    throw new DrpcError(Code.BadMessage, codeText(Code.BadMessage));
  });
  ep.route('/status/unauth', () => {
    throw new DrpcError(Code.Unauthorized, codeText(Code.Unauthorized));
  });
  ep.route('/status/internal', () => {
    throw new DrpcError(Code.InternalServerError, codeText(Code.InternalServerError), 'database exploded');
  });
  ep.route('/status/custom', () => {
    throw new DrpcError(1234, 'custom failure', 'because');
  });
  ep.route('/push/me', async ({ n, gzip: zip }: any, ctx) => {
    for (let i = 0; i < n; i++) await ctx.session.push('/client/news', { i }, zip ? { pipe: [gzip.id] } : {});
    return { pushed: n };
  });
  ep.route('/callback/ask', async ({ q, gzip: zip }: any, ctx) => {
    const r = await ctx.session.callReply('/client/answer', q, { timeout: 5000, pipe: zip ? [gzip.id] : [] });
    ctx.setReplyCodec(r.bodyCodec);
    return r.value;
  });
  ep.route('/sleep', async ({ ms }: any) => {
    await new Promise((r) => setTimeout(r, ms));
    return ms;
  });
  ep.routePush('/client/hello', (_body, ctx) => {
    ctx.session.data.set('hellos', ((ctx.session.data.get('hellos') as number) ?? 0) + 1);
  });
  ep.route('/stats/pushes', (_body, ctx) => (ctx.session.data.get('hellos') as number) ?? 0);
  return ep;
}
