/**
 * What the runtime scenarios and their endpoint agree on. Loaded by Node, Deno and Bun alike, so it
 * imports only the client side of the SDK (no Node built-ins, no `ws`).
 *
 * The `/ctl/*` calls let a client running in another process ask the endpoint to act on its own
 * session: push to it, call it, publish, kill the connection, close the session.
 */
import { z } from 'zod';
import { contract } from '../../src/index.ts';

export const api = contract({
  calls: {
    '/math/add': { input: z.object({ a: z.number(), b: z.number() }), output: z.number() },
    '/echo': { input: z.unknown(), output: z.unknown() },
    '/fail/custom': { input: z.unknown(), output: z.never() },
    '/ctl/whoami': { input: z.unknown(), output: z.object({ id: z.string(), wire: z.string() }) },
    '/ctl/push-me': { input: z.object({ text: z.string() }), output: z.literal(true) },
    '/ctl/ask-me': { input: z.string(), output: z.string() },
    '/ctl/publish': { input: z.object({ from: z.number(), to: z.number() }), output: z.number() },
    '/ctl/kick-then-publish': { input: z.object({ from: z.number(), to: z.number() }), output: z.literal(true) },
    '/ctl/close-me': { input: z.unknown(), output: z.string() },
  },
  pushes: { '/news': z.object({ text: z.string() }) },
  client: { '/client/ask': { input: z.string(), output: z.string() } },
  topics: { '/feed': z.number() },
});

/** Every scenario, in the order they run; each prints one JSON line `{ name, ok, error?, ms }`. */
export const SCENARIOS = [
  'connect and ready',
  'typed call with a result',
  'call errors carry drpc status codes (404, custom 1234)',
  'server push reaches onPush',
  'server → client call answered by client.route',
  'topic: ordered offsets, resume after a server-side kill with no loss and no duplicates',
  'reconnect after the endpoint closes the session',
  "JSON sub-protocol (proto: 'json')",
  'msgpack codec (src/codec/msgpack.ts)',
  'HTTP fallback transport (drpc/http): call, push, server → client call',
  'close',
] as const;

export type ScenarioName = (typeof SCENARIOS)[number];

/** One result line. */
export interface ScenarioResult {
  name: ScenarioName;
  ok: boolean;
  error?: string;
  ms: number;
}

/** The status the endpoint kicks a session with; the client sees WebSocket close code 4000 + code. */
export const KICK = { code: 500, msg: 'Internal Server Error', cause: 'runtime test kills the connection' };

/** The custom status `/fail/custom` throws. */
export const CUSTOM = { code: 1234, msg: 'Custom Failure', cause: 'because reasons' };

/** Where the code runs: deno 2.x, bun 1.x or node 20.x. */
export function runtimeName(): string {
  const g = globalThis as { Deno?: { version: { deno: string } }; Bun?: { version: string }; process?: { versions?: { node?: string } } };
  if (g.Deno) return `deno ${g.Deno.version.deno}`;
  if (g.Bun) return `bun ${g.Bun.version}`;
  return `node ${g.process?.versions?.node ?? '?'}`;
}
