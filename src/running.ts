/**
 * Inbound handlers a session is running: counted for the concurrency cap, waited for by an active
 * close, and aborted (through each handler's lazily made AbortController) when the session dies.
 */
import type { DrpcError } from './status.ts';

export interface Job {
  controller?: AbortController;
}

export class RunningJobs {
  readonly #jobs = new Set<Job>();
  #idle: (() => void)[] = [];

  get size(): number {
    return this.#jobs.size;
  }

  start(): Job {
    const job: Job = {};
    this.#jobs.add(job);
    return job;
  }

  finish(job: Job): void {
    this.#jobs.delete(job);
    if (this.#jobs.size === 0 && this.#idle.length) for (const f of this.#idle.splice(0)) f();
  }

  /** Resolves when no handler is running. */
  idle(): Promise<void> {
    if (this.#jobs.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  abortAll(err: DrpcError): void {
    for (const job of this.#jobs) job.controller?.abort(err);
  }
}
