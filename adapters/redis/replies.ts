/**
 * `keepReplies`: the durable calls of every node recorded in Redis, so that a client's call re-sent
 * after its node crashed is answered from here (or refused as unknown, when it was still running
 * there) instead of running again. Without it a crashed node's replies are lost with its memory.
 *
 * One hash per client, `{prefix}r:{id}` (the hash tag puts it in the slot of the client's node key):
 * field `n` is '' while call n runs, then its reply. A call's handler waits for its '' to be written;
 * the reply is written without waiting (a client that got it never asks again). Fields go as the
 * client acknowledges them; the hash expires `ttlMs` (the reply cache's maxAgeMs) after its last write.
 */
import { Buffer } from 'node:buffer';
import type { CachedReply, ReplyStore, StoredCalls } from '../../src/reply-cache.ts';
import { Code, DrpcError, codeText } from '../../src/status.ts';
import type { Conn } from './connection.ts';

export interface RepliesLink {
  prefix: string;
  /** Runs a command on the broker's connection: a 502 naming `what` when it fails (at once while Redis is known lost). */
  command<T>(what: string, run: (redis: Conn) => Promise<T>): Promise<T>;
  report(err: DrpcError): void;
}

type Encoded = [code: number, msg: string, cause: string, meta: Record<string, string>, bodyCodec: number, body: string];

export class RedisReplies implements ReplyStore {
  /** A failure was reported and nothing has succeeded since (one report per outage). */
  #failing = false;
  /** Fields to delete, by client, sent together at the end of the turn. */
  #forgotten = new Map<string, string[]>();

  constructor(private readonly link: RepliesLink) {}

  begin(id: string, n: number, ttlMs: number): Promise<void> {
    return this.#write(`record call ${n} of client ${JSON.stringify(id)}`, id, String(n), '', ttlMs);
  }

  finish(id: string, n: number, reply: CachedReply, ttlMs: number): void {
    const { status: s, meta, bodyCodec, body } = reply;
    const value: Encoded = [
      s.code,
      s.msg,
      s.cause,
      meta,
      bodyCodec,
      Buffer.from(body.buffer, body.byteOffset, body.length).toString('base64'),
    ];
    void this.#write(`record the reply of call ${n} of client ${JSON.stringify(id)}`, id, String(n), JSON.stringify(value), ttlMs);
  }

  forget(id: string, n: number): void {
    const fields = this.#forgotten.get(id);
    if (fields) return void fields.push(String(n));
    if (!this.#forgotten.size) queueMicrotask(() => this.#flush());
    this.#forgotten.set(id, [String(n)]);
  }

  async load(id: string): Promise<StoredCalls | undefined> {
    const what = `read the calls of client ${JSON.stringify(id)}`;
    const fields = await this.#run(what, (r) => r.hgetall(this.#key(id)));
    if (!fields) return undefined;
    const stored: StoredCalls = { done: [], running: [] };
    for (const [field, value] of Object.entries(fields)) {
      const n = Number(field);
      if (!Number.isInteger(n)) continue;
      if (value === '') {
        stored.running.push(n);
        continue;
      }
      try {
        const [code, msg, cause, meta, bodyCodec, body] = JSON.parse(value) as Encoded;
        stored.done.push([n, { status: { code, msg, cause }, meta, bodyCodec, body: new Uint8Array(Buffer.from(body, 'base64')) }]);
      } catch (err) {
        this.link.report(new DrpcError(Code.BadMessage, codeText(Code.BadMessage), `${what}: call ${n} cannot be read (${String(err)})`));
      }
    }
    return stored;
  }

  #key(id: string): string {
    return `${this.link.prefix}r:{${id}}`;
  }

  async #write(what: string, id: string, field: string, value: string, ttlMs: number): Promise<void> {
    const key = this.#key(id);
    await this.#run(what, (r) =>
      r
        .multi()
        .hset(key, field, value)
        .pexpire(key, Math.max(1, Math.ceil(ttlMs)))
        .exec(),
    );
  }

  #flush(): void {
    const batches = [...this.#forgotten];
    this.#forgotten.clear();
    for (const [id, fields] of batches)
      void this.#run(`forget replies of client ${JSON.stringify(id)}`, (r) => r.hdel(this.#key(id), ...fields));
  }

  /** Runs a command; resolves with undefined when it fails, after reporting the first failure of an outage. */
  async #run<T>(what: string, run: (redis: Conn) => Promise<T>): Promise<T | undefined> {
    try {
      const out = await this.link.command(what, run);
      this.#failing = false;
      return out;
    } catch (err) {
      if (!this.#failing) this.link.report(DrpcError.from(err, Code.BadGateway));
      this.#failing = true;
      return undefined;
    }
  }
}
