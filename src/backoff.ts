/** Exponential backoff with full jitter (AWS architecture blog): delay ∈ [0, min(max, min·2^attempt)]. */
export interface BackoffOptions {
  /** Base delay in ms. Default 500. */
  min?: number;
  /** Cap in ms. Default 30000. */
  max?: number;
  /** Attempts before giving up (Infinity = never). Default Infinity. */
  attempts?: number;
}

export function backoffDelay(attempt: number, o: BackoffOptions = {}, random: () => number = Math.random): number {
  const min = o.min ?? 500;
  const max = o.max ?? 30_000;
  const ceiling = Math.min(max, min * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * ceiling);
}
