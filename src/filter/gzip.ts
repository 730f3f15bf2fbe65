/**
 * gzip filter 'z' (drpc). Node (and Deno/Bun through their node compat) use zlib synchronously, which
 * keeps small frames on the fast path; elsewhere CompressionStream / DecompressionStream.
 * Unpack output is bounded by the frame limit, so a small bomb cannot inflate into gigabytes.
 */
import type { Filter } from './filter.ts';
import { DrpcError, badMessage } from '../status.ts';
import { nodeBuiltin } from '../runtime.ts';
import { concatBytes } from '../alloc.ts';

interface NodeZlib {
  gzipSync(d: Uint8Array, o?: { level?: number }): Uint8Array;
  gunzipSync(d: Uint8Array, o?: { maxOutputLength?: number }): Uint8Array;
}

export interface GzipOptions {
  /** Compression level 1-9 (zlib only; CompressionStream has no level). Default 5, drpc's usual choice. */
  level?: number;
  /** Force the web streams implementation even where zlib exists (tests). Default false. */
  webStreams?: boolean;
}

export function gzipFilter(options: GzipOptions = {}): Filter {
  const zlib = options.webStreams ? undefined : nodeBuiltin<NodeZlib>('zlib');
  const level = options.level ?? 5;
  return {
    id: 0x7a,
    name: 'gzip',
    onPack: zlib ? (d) => new Uint8Array(zlib.gzipSync(d, { level })) : (d) => streamThrough(new CompressionStream('gzip'), d, Infinity),
    onUnpack(data, limits) {
      if (!zlib) return streamThrough(new DecompressionStream('gzip'), data, limits.maxSize);
      try {
        return new Uint8Array(zlib.gunzipSync(data, { maxOutputLength: limits.maxSize }));
      } catch (err) {
        throw gzipError(err, limits.maxSize);
      }
    },
  };
}

export const gzip: Filter = /* @__PURE__ */ gzipFilter();

function gzipError(err: unknown, max: number): DrpcError {
  const e = err as { code?: string; message?: string };
  if (e?.code === 'ERR_BUFFER_TOO_LARGE' || /too large|exceed/i.test(e?.message ?? ''))
    return badMessage(`gzip filter: inflated data exceeds the ${max}-byte frame limit`);
  return badMessage(`gzip filter: corrupt gzip data (${e?.message ?? String(err)})`);
}

async function streamThrough(stream: CompressionStream | DecompressionStream, data: Uint8Array, max: number): Promise<Uint8Array> {
  const writer = stream.writable.getWriter();
  // Errors surface through the reader; the write side's own rejections are expected then.
  writer.write(data as Uint8Array<ArrayBuffer>).catch(() => {});
  writer.close().catch(() => {});
  const reader = stream.readable.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.length;
      if (size > max) {
        reader.cancel().catch(() => {});
        throw badMessage(`gzip filter: inflated data exceeds the ${max}-byte frame limit`);
      }
      chunks.push(value);
    }
  } catch (err) {
    throw err instanceof DrpcError ? err : gzipError(err, max);
  }
  return chunks.length === 1 ? chunks[0]! : concatBytes(chunks, size);
}
