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
  // Defaults: min 500 ms, max 30 s.
  return Math.floor(random() * Math.min(o.max ?? 30_000, (o.min ?? 500) * 2 ** Math.min(attempt, 30)));
}
