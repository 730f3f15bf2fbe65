/**
 * Checks of numeric options where they are given: a bad value (NaN, negative, a string) fails at
 * once with 400 naming the option, instead of later as a redial loop without backoff, a frame limit
 * that never applies or a timer that fires at once.
 */
import { Code, DrpcError } from './status.ts';

/** [name, value, least allowed, whole numbers only]; an undefined value (the default) passes. Infinity passes. */
export type NumberOption = [name: string, value: unknown, min: number, integer?: boolean];

export function checkNumbers(options: NumberOption[]): void {
  for (const [name, v, min, integer] of options)
    if (v !== undefined && !(typeof v === 'number' && v >= min && (!integer || Number.isInteger(v) || v === Infinity)))
      throw new DrpcError(Code.BadMessage, `option ${name} must be ${integer ? 'a whole number' : 'a number'} ≥ ${min}, got ${String(v)}`);
}
