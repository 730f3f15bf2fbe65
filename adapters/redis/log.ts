/**
 * One topic's log kept in Redis (scripts.ts), seen from one node. Redis gives the offsets; this node
 * hands each live message to its Topic once, in offset order. When the subscriber connection comes
 * back after a drop, or a live message skips offsets (one the channel lost), what was published
 * meanwhile is read back from the stream before live messages go on (they wait meanwhile), so
 * subscribers on this node lose nothing the history still keeps.
 */
import { newEpoch, type Deliver, type LogEntry, type LogLimits, type LogState, type TopicLog } from '../../src/topic-log.ts';
import { decodePayload } from './payload.ts';

/** What a log needs from its broker. */
export interface LogLink {
  readonly topic: string;
  readonly limits: LogLimits;
  /** `epoch`: a fresh one, taken if the log has none (new, or lost with its Redis data). */
  append(payload: unknown, epoch: string): Promise<[number, string]>;
  /** The READ script's raw reply (buffers). */
  read(after: number | undefined, epoch: string): Promise<unknown>;
  /** Resolves once this node listens to the topic's channel. */
  subscribe(): Promise<unknown>;
  unsubscribe(): void;
  report(err: unknown): void;
}

interface Live {
  offset: number;
  epoch: string;
  payload: Buffer;
}

export class RedisLog implements TopicLog {
  epoch = '';
  offset = 0;
  /** The last offset handed to `deliver` (of `epoch`). */
  #delivered = 0;
  /** Live messages waiting while this node reads what it missed. */
  #holding?: Live[];
  /** This node listens to the channel and knows where the log stood then. */
  #listening?: Promise<void>;
  #closed = false;

  constructor(
    private readonly link: LogLink,
    private readonly deliver: Deliver,
  ) {}

  async append(payload: unknown): Promise<number> {
    const [offset, epoch] = await this.link.append(payload, newEpoch());
    if (epoch === this.epoch) this.offset = Math.max(this.offset, offset);
    return offset;
  }

  async read(after?: number): Promise<LogState> {
    await this.#listen();
    const s = await this.#read(after);
    if (s.epoch !== this.epoch) this.#restart(s); // the history was reset under us
    return s;
  }

  /** A message from the channel: `<offset>:<epoch>:<payload>` (throws when it is not one). */
  live(message: Buffer): void {
    const a = message.indexOf(58); // ':'
    const b = a < 0 ? -1 : message.indexOf(58, a + 1);
    if (b < 0) throw new TypeError('not <offset>:<epoch>:<payload>');
    const m = {
      offset: Number(message.toString('latin1', 0, a)),
      epoch: message.toString('latin1', a + 1, b),
      payload: message.subarray(b + 1),
    };
    if (!Number.isSafeInteger(m.offset) || m.offset < 1) throw new TypeError(`offset ${JSON.stringify(message.toString('latin1', 0, a))}`);
    if (this.#holding) this.#holding.push(m);
    else this.#take(m);
  }

  /** The subscriber connection is back: read what was published while it was away, then go on live. */
  catchUp(): void {
    if (!this.#listening || this.#closed || this.#holding) return;
    this.#holding = [];
    const since = this.#delivered;
    const epoch = this.epoch;
    this.#read(since)
      .then(async (s) => {
        if (s.epoch !== epoch) {
          // The history was reset while we were away: all of the new epoch is new here.
          s = await this.#read(0);
          this.#restart(s, 0);
        }
        return s;
      })
      .then(
        (s) => {
          for (const e of s.entries) this.#hand(e.offset, s.epoch, e.payload);
        },
        (err: unknown) => this.link.report(err),
      )
      .finally(() => this.#flush());
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#holding = undefined;
    this.link.unsubscribe();
  }

  #listen(): Promise<void> {
    return (this.#listening ??= this.#start().catch((err: unknown) => {
      this.#listening = undefined; // the next read tries again
      throw err;
    }));
  }

  async #start(): Promise<void> {
    this.#holding = [];
    try {
      await this.link.subscribe();
      // Everything after this position comes on the channel: it was subscribed before the read.
      this.#restart(await this.#read(undefined));
    } finally {
      this.#flush();
    }
  }

  async #read(after: number | undefined): Promise<LogState> {
    const [epochBytes, offset, first, raw] = (await this.link.read(after, newEpoch())) as [Buffer, number, number, [Buffer, Buffer[]][]];
    const epoch = epochBytes.toString();
    if (epoch === this.epoch) this.offset = Math.max(this.offset, offset);
    const entries: LogEntry[] = raw.map(([id, fields]) => ({ offset: Number(id.toString().slice(2)), payload: fields[3]! }));
    for (const e of entries) e.payload = decodePayload(e.payload as Buffer);
    return { epoch, offset, first, entries };
  }

  /** Counts from `s` on: what this node has handed out is `delivered` of its epoch. */
  #restart(s: LogState, delivered = s.offset): void {
    this.epoch = s.epoch;
    this.offset = s.offset;
    this.#delivered = delivered;
  }

  #flush(): void {
    const held = this.#holding ?? [];
    this.#holding = undefined;
    for (const m of held) this.#take(m);
  }

  #take(m: Live): void {
    if (this.#closed || (m.epoch === this.epoch && m.offset <= this.#delivered)) return; // read back already
    if (m.epoch === this.epoch && this.#delivered > 0 && m.offset > this.#delivered + 1 && this.#listening) {
      // A message the channel lost without a drop (a cluster slot that moved to another shard): read
      // the missing ones back from the stream first; this one waits with the rest.
      this.catchUp();
      if (this.#holding) return void this.#holding.push(m);
    }
    let payload: unknown;
    try {
      payload = decodePayload(m.payload);
    } catch (err) {
      this.link.report(new Error(`topic ${JSON.stringify(this.link.topic)}: message ${m.offset} could not be read: ${String(err)}`));
      return;
    }
    this.#hand(m.offset, m.epoch, payload);
  }

  #hand(offset: number, epoch: string, payload: unknown): void {
    if (epoch === this.epoch && offset <= this.#delivered) return;
    this.epoch = epoch;
    this.#delivered = offset;
    this.offset = Math.max(this.offset, offset);
    this.deliver(offset, epoch, payload);
  }
}
