/**
 * A Deno or Bun child process for the runtime suites: its JSON lines as they come, its stderr, and how
 * it ended; killed after a deadline.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const BIN = `${ROOT}node_modules/.bin/`;

export type Runtime = 'deno' | 'bun';

/**
 * The least Deno permissions that work for both scripts: loopback only, and the one environment
 * variable read while loading: `ws` (the endpoint's WebSocket server; the client uses Deno's own
 * WebSocket and never loads it) reads WS_NO_BUFFER_UTIL. No --allow-read: modules are not file reads.
 * Bare imports resolve from node_modules (package.json present: Deno's "manual" node_modules mode),
 * so nothing is downloaded; this also works with no network and an empty DENO_DIR.
 */
export const DENO_FLAGS = ['--allow-net=127.0.0.1', '--allow-env=WS_NO_BUFFER_UTIL'];

function command(runtime: Runtime, script: string, args: string[], denoFlags: string[]): [string, string[]] {
  if (runtime === 'deno') return [`${BIN}deno`, ['run', ...denoFlags, script, ...args]];
  return [`${BIN}bun`, [script, ...args]];
}

/** A child runtime: its JSON lines as they come, its stderr, and how it ended. */
export class Child {
  readonly lines: Record<string, unknown>[] = [];
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: string | null }>;
  readonly proc: ChildProcess;
  #waiters: (() => void)[] = [];

  constructor(runtime: Runtime, script: string, args: string[] = [], denoFlags = DENO_FLAGS) {
    const [cmd, argv] = command(runtime, script, args, denoFlags);
    this.proc = spawn(cmd, argv, {
      cwd: ROOT,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1', DENO_NO_UPDATE_CHECK: '1', FORCE_COLOR: undefined },
    });
    let out = '';
    this.proc.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      for (let nl = out.indexOf('\n'); nl >= 0; nl = out.indexOf('\n')) {
        const text = out.slice(0, nl).trim();
        out = out.slice(nl + 1);
        if (!text) continue;
        try {
          this.lines.push(JSON.parse(text));
        } catch {
          this.stderr += `[stdout] ${text}\n`;
        }
        for (const w of this.#waiters.splice(0)) w();
      }
    });
    this.proc.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    this.exited = new Promise((resolve) => {
      this.proc.once('error', (err) => ((this.stderr += `spawn failed: ${err.message}\n`), resolve({ code: null, signal: 'spawn-error' })));
      this.proc.once('close', (code, signal) => (resolve({ code, signal }), this.#waiters.splice(0).forEach((w) => w())));
    });
  }

  /** The first line for which `pick` holds, or undefined once the child exits or `ms` pass. */
  async line(pick: (l: Record<string, unknown>) => boolean, ms: number): Promise<Record<string, unknown> | undefined> {
    const end = Date.now() + ms;
    let done = false;
    void this.exited.then(() => (done = true));
    for (;;) {
      const hit = this.lines.find(pick);
      if (hit || done || Date.now() >= end) return hit;
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.min(100, end - Date.now()));
        this.#waiters.push(() => (clearTimeout(t), r()));
      });
    }
  }

  /** Waits up to `ms` for the exit; kills the child (SIGKILL) if it is still running then. */
  async end(ms: number): Promise<{ code: number | null; signal: string | null; killed: boolean }> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), ms)));
    const outcome = await Promise.race([this.exited, timeout]).finally(() => clearTimeout(timer));
    if (outcome !== 'timeout') return { ...outcome, killed: false };
    this.proc.kill('SIGKILL');
    return { ...(await this.exited), killed: true };
  }

  /** What a failure message shows: how it ended and the tail of its stderr. */
  describe(): string {
    const fatal = this.lines.filter((l) => 'fatal' in l || 'uncaught' in l || 'unhandled' in l);
    return [
      `exit ${this.proc.exitCode ?? 'pending'}${this.proc.signalCode ? ` (${this.proc.signalCode})` : ''}`,
      ...fatal.map((l) => JSON.stringify(l)),
      `stderr: ${this.stderr.trim().slice(-2000) || '(empty)'}`,
    ].join('\n');
  }
}
