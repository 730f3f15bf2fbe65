/** Waiting for an ioredis connection, and closing one, each bounded in time. */
import type { Redis } from 'ioredis';

const waiting = new WeakMap<Redis, Promise<void>>();

/** Resolves when `conn` is ready (one listener however many commands wait); rejects after `ms`, or at once when it was closed for good. */
export function ready(conn: Redis, ms: number): Promise<void> {
  if (conn.status === 'end') return Promise.reject(new Error('connection closed'));
  let wait = waiting.get(conn);
  if (!wait) {
    wait = new Promise<void>((resolve) =>
      conn.once('ready', () => {
        waiting.delete(conn);
        resolve();
      }),
    );
    waiting.set(conn, wait);
  }
  return within(wait, ms, `not connected within ${ms} ms (${conn.status})`);
}

export function within<T>(p: Promise<T>, ms: number, why = `no answer within ${ms} ms`): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(why)), ms)))]).finally(() =>
    clearTimeout(timer),
  );
}

export async function quit(conn: Redis): Promise<void> {
  try {
    await within(conn.quit(), 1000);
  } catch {
    conn.disconnect();
  }
}
