/**
 * Optional Node built-ins reached at runtime, never imported statically, so that bundles for the
 * browser stay free of Node code. `process.getBuiltinModule` exists in Node ≥ 20.16, Deno and Bun.
 */
interface ProcessLike {
  getBuiltinModule?: (id: string) => unknown;
}

export function nodeBuiltin<T>(id: string): T | undefined {
  const proc = (globalThis as { process?: ProcessLike }).process;
  try {
    return proc?.getBuiltinModule?.(id) as T | undefined;
  } catch {
    return undefined;
  }
}
