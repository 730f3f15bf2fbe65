/**
 * Test support for the Go interop fixtures: builds a Go command of test/interop once per run
 * (module cache reused) and fails loudly when Go or the module proxy is missing. Never skips.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

export const interopDir = dirname(fileURLToPath(import.meta.url));

/** Newest modification time of cmd/<name>/main.go, the shared packages under internal/ and go.mod/go.sum. */
function sourceTime(name: string): number {
  const internal = join(interopDir, 'internal');
  const files = [join(interopDir, 'cmd', name, 'main.go'), join(interopDir, 'go.mod'), join(interopDir, 'go.sum')];
  if (existsSync(internal)) {
    for (const f of readdirSync(internal, { recursive: true, encoding: 'utf8' })) if (f.endsWith('.go')) files.push(join(internal, f));
  }
  return Math.max(...files.map((f) => statSync(f).mtimeMs));
}

/** Path of bin/<name>, building it from cmd/<name> when missing or older than its sources. */
export function goBinary(name: string): string {
  const bin = join(interopDir, 'bin', name);
  if (!existsSync(bin) || statSync(bin).mtimeMs < sourceTime(name)) {
    try {
      execFileSync('go', ['build', '-o', bin, `./cmd/${name}`], { cwd: interopDir, stdio: ['ignore', 'inherit', 'inherit'] });
    } catch (err) {
      throw new Error(
        `building the Go interop fixture cmd/${name} failed (needs Go >= 1.24 and the Go module proxy): ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
  }
  return bin;
}

/** Runs bin/vectors with a batch of ops and returns its results in order. */
export function goVectors<T = Record<string, unknown>>(ops: object[]): T[] {
  const out = execFileSync(goBinary('vectors'), { input: JSON.stringify({ ops }), maxBuffer: 256 * 1024 * 1024 });
  return (JSON.parse(out.toString()) as { results: T[] }).results;
}
