/**
 * The HTTP fallback without sticky sessions (DESIGN.md): an HTTP session lives on the node that
 * opened it. A POST, DELETE or stream request for it that reaches another node is relayed there
 * through the broker; a relayed stream's events come back to the node that holds the response
 * through an inbox, in order. The client sees one endpoint.
 */
import type { ServerResponse } from 'node:http';
import { Code, DrpcError, type Status } from '../../src/status.ts';
import type { Broker, Inbox } from './broker.ts';
import { httpError } from './http-body.ts';
import type { NodeHttpTransport, StreamSink } from './http-transport.ts';

type Request =
  | { op: 'post'; first: number; ack: number | null; type: string; body: string }
  | { op: 'delete' }
  | { op: 'attach'; acked: number; inbox: string }
  | { op: 'detach'; inbox: string };

/** 'ok', or the failure as the holding node would have answered it. */
type Answer = 'ok' | { http: number; status: Status };

/** Delivers a POST body to a local session (http-routes.ts): throws an httpError when it cannot. */
export type DeliverPost = (t: NodeHttpTransport, first: number, ack: number | undefined, body: Buffer, type: string) => void;

export class RemoteHttp {
  /** Streams this node writes for other nodes' responses, by inbox. */
  readonly #sinks = new Map<string, RemoteSink>();

  constructor(
    private readonly broker: Broker,
    private readonly deliverPost: DeliverPost,
    /** How long a relayed request waits for the node that holds the session, in ms (`http.relayMs`). */
    private readonly waitMs: number,
  ) {}

  /** This node opened HTTP session `sid`: requests for it that reach other nodes come here (once this resolves). */
  hold(sid: string, t: NodeHttpTransport): Promise<void> {
    return this.broker.holdKey(key(sid), async (request) => {
      try {
        // A POST relayed before the session opened is answered once it has, as a local one (http-routes.ts).
        const opening = (request as Request).op === 'post' ? t.untilListening() : undefined;
        if (opening) await opening;
        this.#apply(t, request as Request);
        return 'ok' satisfies Answer;
      } catch (err) {
        return { http: (err as { http?: number }).http ?? 500, status: DrpcError.from(err).toStatus() } satisfies Answer;
      }
    });
  }

  release(sid: string): void {
    this.broker.releaseKey(key(sid));
  }

  /** A POST for a session another node holds. */
  post(sid: string, first: number, ack: number | undefined, body: Buffer, type: string): Promise<void> {
    return this.#forward(sid, { op: 'post', first, ack: ack ?? null, type, body: body.toString('base64') });
  }

  delete(sid: string): Promise<void> {
    return this.#forward(sid, { op: 'delete' });
  }

  /** A stream for a session another node holds: its events are written to `res` (after `head`). */
  async resume(sid: string, acked: number, res: ServerResponse, head: (res: ServerResponse) => void): Promise<void> {
    let started = false;
    let ended = false;
    const early: unknown[] = [];
    const write = (m: unknown) => {
      const { w, e } = m as { w?: string; e?: string };
      if (e !== undefined) {
        ended = true;
        res.end(e);
        inbox.close();
      } else if (w !== undefined) res.write(w);
    };
    const inbox: Inbox = await this.broker.openInbox((m) => (started ? write(m) : early.push(m)));
    try {
      await this.#forward(sid, { op: 'attach', acked, inbox: inbox.address });
    } catch (err) {
      inbox.close();
      throw err;
    }
    head(res);
    started = true;
    for (const m of early) write(m);
    res.on('close', () => {
      inbox.close();
      if (!ended) this.#forward(sid, { op: 'detach', inbox: inbox.address }).catch(() => {}); // the session awaits its next stream
    });
  }

  #apply(t: NodeHttpTransport, r: Request): void {
    if (r.op === 'detach') return this.#sinks.get(r.inbox)?.gone();
    if (t.closed) throw httpError(404, Code.NotFound, `no http session ${JSON.stringify(t.sid)} (closed or expired: open a new one)`);
    if (r.op === 'post') return this.deliverPost(t, r.first, r.ack ?? undefined, Buffer.from(r.body, 'base64'), r.type);
    if (r.op === 'delete') return t.ended('closed by the client (DELETE)');
    const sink = new RemoteSink(this.broker, r.inbox, () => this.#sinks.delete(r.inbox));
    this.#sinks.set(r.inbox, sink);
    t.attachStream(sink, r.acked);
  }

  /** Sends a request to the node holding `sid`; its failure is thrown as that node would have answered it. */
  async #forward(sid: string, request: Request): Promise<void> {
    let answer: Answer;
    try {
      answer = (await this.broker.ask(key(sid), request, this.waitMs)) as Answer;
    } catch (err) {
      const e = DrpcError.from(err, Code.BadGateway);
      if (e.code === Code.NotFound)
        throw httpError(404, Code.NotFound, `no http session ${JSON.stringify(sid)} (closed or expired: open a new one)`);
      throw httpError(502, Code.BadGateway, `the node holding http session ${JSON.stringify(sid)}: ${e.causeText || e.message}`);
    }
    if (answer !== 'ok') throw Object.assign(DrpcError.fromStatus(answer.status), { http: answer.http });
  }
}

function key(sid: string): string {
  return `h:${sid}`;
}

/** A stream written on this node for a response another node holds: each write is one message to its inbox. */
class RemoteSink implements StreamSink {
  #closed?: () => void;
  #done = false;

  constructor(
    private readonly broker: Broker,
    private readonly inbox: string,
    private readonly forget: () => void,
  ) {}

  write(text: string): void {
    if (this.#done) return;
    this.broker.send(this.inbox, { w: text }).then(
      (heard) => heard || this.gone(), // the other node (or its response) is gone
      () => this.gone(),
    );
  }

  end(text = ''): void {
    if (this.#done) return;
    this.#done = true;
    this.forget();
    this.broker.send(this.inbox, { e: text }).catch(() => {});
  }

  on(_event: 'close', cb: () => void): void {
    this.#closed = cb;
  }

  /** The response on the other node closed: the session awaits its next stream. */
  gone(): void {
    if (this.#done) return;
    this.#done = true;
    this.forget();
    this.#closed?.();
  }
}
