/**
 * The endpoint the runtime scenarios run against: createEndpoint() with the routes and the topic of
 * ./contract.ts, listening on 127.0.0.1. Node starts it for the Deno and Bun clients; Deno and Bun
 * start it (endpoint-scenarios.ts) to find out whether the Node endpoint runs there too.
 */
import { createEndpoint, type Endpoint } from '../../adapters/node/endpoint.ts';
import { createCodecs, DrpcError, type CodecRegistry } from '../../src/index.ts';
import { api, CUSTOM, KICK } from './contract.ts';

export interface Served {
  ep: Endpoint<typeof api>;
  url: string;
  /** Whether the msgpack codec loaded here (else the endpoint knows the default codecs only). */
  msgpack: boolean;
  /** Errors the endpoint reported through onError. */
  errors: string[];
}

/** Loads the msgpack codec if this runtime can; undefined if it cannot. */
export async function msgpackCodecs(): Promise<CodecRegistry | undefined> {
  try {
    const { msgpack } = await import('../../src/codec/msgpack.ts');
    return createCodecs(msgpack);
  } catch {
    return undefined;
  }
}

export async function serveScenarios(): Promise<Served> {
  const codecs = await msgpackCodecs();
  const errors: string[] = [];
  const ep = createEndpoint({ contract: api, codecs, onError: (err) => void errors.push(err.detail) });
  ep.topic('/feed', { history: { count: 1000 } });
  const later = (fn: () => void) => setTimeout(fn, 20); // after the reply has left

  ep.route('/math/add', ({ a, b }) => a + b);
  ep.route('/echo', (body) => body);
  ep.route('/fail/custom', () => {
    throw new DrpcError(CUSTOM.code, CUSTOM.msg, CUSTOM.cause);
  });
  ep.route('/ctl/whoami', (_b, ctx) => ({
    id: ctx.session.id,
    wire: (ctx.session.proto as { mode?: string }).mode ?? ctx.session.proto.name,
  }));
  ep.route('/ctl/push-me', async ({ text }, ctx) => {
    await ep.push(ctx.session, '/news', { text });
    return true as const;
  });
  ep.route('/ctl/ask-me', (question, ctx) => ep.call(ctx.session, '/client/ask', question, { timeout: 5000 }));
  const publish = (from: number, to: number) => {
    let offset = 0;
    for (let i = from; i <= to; i++) offset = ep.publish('/feed', i);
    return offset;
  };
  ep.route('/ctl/publish', ({ from, to }) => publish(from, to));
  ep.route('/ctl/kick-then-publish', ({ from, to }, ctx) => {
    const id = ctx.session.id;
    later(() => {
      ep.sessions.kick(id, KICK);
      publish(from, to); // nobody is listening now: these come back from the history on resume
    });
    return true as const;
  });
  ep.route('/ctl/close-me', (_b, ctx) => {
    const s = ctx.session;
    later(() => void s.close('the endpoint closes this session'));
    return s.id;
  });

  const { url } = await ep.listen({ port: 0, host: '127.0.0.1', path: '/rpc' });
  return { ep, url, msgpack: codecs !== undefined, errors };
}
