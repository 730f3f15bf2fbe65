/**
 * Inbound handlers a session is running: counted for the concurrency cap, waited for by an active
 * close, and aborted (through each handler's lazily made AbortController) when the session dies,
 * when the caller cancels the call (`/drpc/cancel`) or when the caller's deadline passes.
 */
import type { Clock, TimerHandle } from './clock.ts';
import type { DrpcError } from './status.ts';
import type { RunningCall } from './reply-cache.ts';

export interface Job extends RunningCall {
  controller?: AbortController;
  /** The CALL's seq (CALL jobs only), so a cancel can find it. */
  seq?: number;
  deadline?: TimerHandle;
  /** A call with an identity (reply cache): it outlives its connection, so a close does not abort it. */
  durable?: boolean;
}

export class RunningJobs {
  readonly #jobs = new Set<Job>();
  #calls?: Map<number, Job>;
  #idle: (() => void)[] = [];

  constructor(private readonly clock: Clock) {}

  get size(): number {
    return this.#jobs.size;
  }

  start(seq?: number): Job {
    const job: Job = {};
    this.#jobs.add(job);
    if (seq !== undefined) {
      job.seq = seq;
      (this.#calls ??= new Map()).set(seq, job);
    }
    return job;
  }

  /** Aborts the job's signal after `ms` with `reason` (the caller's deadline). */
  expireAfter(job: Job, ms: number, reason: () => DrpcError): void {
    job.deadline = this.clock.setTimeout(() => abortJob(job, reason()), ms);
  }

  finish(job: Job): void {
    this.#jobs.delete(job);
    if (job.seq !== undefined && this.#calls?.get(job.seq) === job) this.#calls.delete(job.seq);
    if (job.deadline !== undefined) this.clock.clearTimeout(job.deadline);
    if (this.#jobs.size === 0 && this.#idle.length) for (const f of this.#idle.splice(0)) f();
  }

  /** Aborts the running CALL with this seq, if any (the caller canceled it). */
  cancel(seq: number, reason: DrpcError): boolean {
    const job = this.#calls?.get(seq);
    if (!job) return false;
    abortJob(job, reason);
    return true;
  }

  /** Resolves when no handler is running. */
  idle(): Promise<void> {
    if (this.#jobs.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /** The session died: abort every handler except durable calls, whose replies the cache keeps. */
  abortAll(err: DrpcError): void {
    for (const job of this.#jobs) if (!job.durable) abortJob(job, err);
  }
}

/** Aborts a handler's signal (made now if the handler has not looked at it yet, so that it sees it aborted). */
export function abortJob(job: { controller?: AbortController }, reason: DrpcError): void {
  (job.controller ??= new AbortController()).abort(reason);
}
