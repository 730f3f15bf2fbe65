/**
 * A proto packs one Message into one frame and back (drpc's `Proto`). Frames are bytes (RAW) or
 * text (the WebSocket JSON sub-protocol). Unpack failures are always DrpcErrors with code 400 and a
 * message naming the problem; the session closes on them, as drpc does for a bad header.
 */
import type { Message } from '../message.ts';
import { unsupportedFilter, type FilterPipes } from '../filter/filter.ts';
import { badMessage, DrpcError } from '../status.ts';

export type Frame = Uint8Array | string;

export interface Proto {
  /** drpc's proto id byte (RAW = 6, JSON = 'j'). */
  readonly id: number;
  readonly name: string;
  /** True when frames are bytes (binary WebSocket messages), false for text frames. */
  readonly binary: boolean;
  pack(m: Message): Frame | Promise<Frame>;
  /** Protos with the same key pack a message into the same bytes (lets broadcast pack once). Default: the proto itself. */
  readonly packKey?: unknown;
  unpack(frame: Frame): Message | Promise<Message>;
}

export interface ProtoOptions {
  /**
   * Transfer filters the proto may apply. Default none here (a client pays for gzip and md5 only when
   * it imports them: `createFilters()`); the Node endpoint and `dialTcp` default to gzip and md5.
   */
  filters?: FilterPipes;
  /** Largest frame accepted by unpack, in bytes (also bounds what filters may inflate to). Default 16 MiB. */
  maxFrameSize?: number;
}

export const DEFAULT_MAX_FRAME = 16 * 1024 * 1024;

const refuse = (pipe: readonly number[]): never => {
  throw unsupportedFilter(pipe[0]);
};

/** No transfer filters: a frame whose pipe names one is refused with 400 naming the filter and the fix. */
export const noFilters: FilterPipes = { pack: refuse, unpack: refuse };

export function resolveProtoOptions(o: ProtoOptions): Required<ProtoOptions> {
  return { filters: o.filters ?? noFilters, maxFrameSize: o.maxFrameSize ?? DEFAULT_MAX_FRAME };
}

export type ProtoFactory = (options?: ProtoOptions) => Proto;

/**
 * `unpack` as given, except that any non-DrpcError it throws or rejects with becomes a 400 naming
 * `what` (nothing else escapes).
 */
export function guarded(what: string, unpack: (frame: Frame) => Message | Promise<Message>): Proto['unpack'] {
  return (frame) => {
    try {
      const out = unpack(frame);
      return out instanceof Promise ? out.catch((err) => Promise.reject(asBadMessage(what, err))) : out;
    } catch (err) {
      throw asBadMessage(what, err);
    }
  };
}

function asBadMessage(what: string, err: unknown): DrpcError {
  return err instanceof DrpcError ? err : badMessage(`${what}: ${(err as Error)?.message ?? String(err)}`, err);
}

export function tooLarge(size: number, max: number): DrpcError {
  return badMessage(`frame of ${size} bytes exceeds the ${max}-byte limit`);
}
