/**
 * The package as an app installs it: `npm pack` (which builds it: prepack), the tarball unpacked into a
 * scratch folder's node_modules beside its dependencies, then used the way apps use it: plain Node,
 * Deno and Bun with bare imports (no TypeScript loader), TypeScript in nodenext and bundler
 * resolution, and a browser bundler (esbuild) that must pick the browser builds.
 *
 *   node --import tsx --test test/package/package.test.ts
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(ROOT, 'node_modules/.bin');
const run = promisify(execFile);

/** What the consumer prints in every runtime (consumer.mjs). */
const EXPECTED = { ws: 3, http: 7, httpTransport: 'http', msgpack: 11, topic: [1, 2, 3], missing: 'not found', redisBroker: 'function' };

type Exports = Record<string, string | Record<string, string>>;
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { exports: Exports };

let dir: string; // the app's folder
let files: string[]; // what the tarball holds, relative to the package

async function inApp(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  const { stdout } = await run(cmd, args, { cwd: dir, timeout: 60_000, env: { ...process.env, NO_COLOR: '1', ...env } });
  return stdout;
}

/** The JSON line consumer.mjs printed. */
function result(stdout: string): unknown {
  const line = stdout.trim().split('\n').at(-1) ?? '';
  return JSON.parse(line);
}

/** What tsc says of `files` in the app (strict; the package's own .d.ts files are checked too, no skipLibCheck); '' when clean. */
async function typeErrors([module, resolution]: readonly [string, string], files: string[]): Promise<string> {
  const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
  const args = ['--noEmit', '--strict', '--target', 'es2022', '--module', module, '--moduleResolution', resolution, '--lib', 'es2022,dom'];
  return run(process.execPath, [tsc, ...args, '--types', 'node', ...files], { cwd: dir }).then(
    () => '',
    (e: { stdout?: string }) => e.stdout ?? String(e),
  );
}

before(
  async () => {
    dir = mkdtempSync(join(tmpdir(), 'drpc-app-'));
    const packed = JSON.parse(
      (await run('npm', ['pack', '--json', '--pack-destination', dir], { cwd: ROOT, timeout: 120_000 })).stdout,
    ) as {
      filename: string;
      files: { path: string }[];
    }[];
    files = packed[0]!.files.map((f) => f.path);
    const modules = join(dir, 'node_modules');
    mkdirSync(modules);
    await run('tar', ['xzf', join(dir, packed[0]!.filename), '-C', dir]);
    cpSync(join(dir, 'package'), join(modules, 'drpc'), { recursive: true });
    // Its dependency (ws), optional peer (ioredis) and what the app itself uses: the ones this repo installed.
    for (const dep of ['ws', 'ioredis', 'zod', '@types/node', 'undici-types'])
      if (existsSync(join(ROOT, 'node_modules', dep))) {
        mkdirSync(join(modules, dep, '..'), { recursive: true });
        symlinkSync(join(ROOT, 'node_modules', dep), join(modules, dep));
      }
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    cpSync(join(ROOT, 'test/package/consumer.mjs'), join(dir, 'consumer.mjs'));
  },
  { timeout: 180_000 },
);
after(() => dir && rmSync(dir, { recursive: true, force: true }));

describe('the packed package, installed in an app', { timeout: 120_000 }, () => {
  test('the tarball holds every file its exports name (types included), built; no tests, benches or size bundles', () => {
    const targets = Object.values(pkg.exports).flatMap((e) => (typeof e === 'string' ? [e] : Object.values(e)));
    for (const t of targets) assert.ok(files.includes(t.replace(/^\.\//, '')), `${t} (named in exports) is not in the tarball`);
    for (const t of targets.filter((t) => t !== './package.json'))
      assert.match(t, /^\.\/dist\/.*\.js$|\.d\.ts$/, `${t}: exports name built files, never TypeScript sources`);
    const stray = files.filter((f) => /^(test|bench|examples|scripts|demo-web|dist\/size)\//.test(f));
    assert.deepEqual(stray, [], 'nothing but the package itself');
  });

  test('plain Node imports every entry by name, with no TypeScript loader: calls over WebSocket, HTTP and msgpack, a topic', async () => {
    assert.deepEqual(result(await inApp(process.execPath, ['consumer.mjs'])), EXPECTED);
  });

  test('a CommonJS app require()s it (Node 20.19 and later load ES modules by require)', async () => {
    writeFileSync(
      join(dir, 'app.cjs'),
      `const { connect } = require('drpc');
const { createEndpoint } = require('drpc/node');
(async () => {
  const ep = createEndpoint();
  ep.route('/math/add', ({ a, b }) => a + b);
  const { url } = await ep.listen({ path: '/rpc' });
  const c = connect(url, { heartbeat: false });
  console.log(JSON.stringify(await c.call('/math/add', { a: 1, b: 2 })));
  await c.close();
  await ep.close({ drain: 0 });
})();
`,
    );
    assert.equal(result(await inApp(process.execPath, ['app.cjs'])), 3);
  });

  for (const runtime of ['deno', 'bun'] as const)
    test(`${runtime} runs the same app from node_modules`, async () => {
      const bin = join(BIN, runtime);
      assert.ok(existsSync(bin), `${bin} is missing: npm install`);
      // ioredis's `debug` dependency reads the whole environment while loading: --allow-env without a list.
      const args = runtime === 'deno' ? ['run', '--allow-net=127.0.0.1', '--allow-env', 'consumer.mjs'] : ['consumer.mjs'];
      assert.deepEqual(result(await inApp(bin, args, { DENO_NO_UPDATE_CHECK: '1' })), EXPECTED);
    });

  test('TypeScript apps get the types, strict, in nodenext and bundler resolution: a typed contract checks bodies and replies', async () => {
    // An unused @ts-expect-error is itself an error: each line marked so must fail to type-check.
    writeFileSync(
      join(dir, 'app.ts'),
      `import { z } from 'zod';
import { connect, contract, serveCalls, DrpcError, type ClientState } from 'drpc';
import { createEndpoint } from 'drpc/node';
import { http } from 'drpc/http';
import { msgpack } from 'drpc/msgpack';
import { redisBroker } from 'drpc/redis';

const api = contract({
  calls: { '/math/add': { input: z.object({ a: z.number(), b: z.number() }), output: z.number() } },
  topics: { '/ticks': z.number() },
});
const ep = createEndpoint({ contract: api, broker: redisBroker({ redis: 'redis://127.0.0.1:1' }) });
ep.route('/math/add', ({ a, b }) => a + b);
const c = connect('ws://127.0.0.1:1/rpc', { contract: api, transports: ['websocket', http], serve: serveCalls });
const sum: Promise<number> = c.call('/math/add', { a: 1, b: 2 });
c.subscribe('/ticks', (n: number, { offset }) => n + offset);
const state: ClientState = c.state;
const err: DrpcError | undefined = undefined;
void [sum, state, err, msgpack.name];
// @ts-expect-error: the body is typed by the contract
void c.call('/math/add', { a: 'one', b: 2 });
// @ts-expect-error: the reply is a number
const text: Promise<string> = c.call('/math/add', { a: 1, b: 2 });
// @ts-expect-error: no such call in the contract
void c.call('/math/sub', { a: 1, b: 2 });
void text;
`,
    );
    for (const resolution of [
      ['nodenext', 'nodenext'],
      ['esnext', 'bundler'],
    ] as const)
      assert.equal(await typeErrors(resolution, ['app.ts']), '', `tsc --moduleResolution ${resolution[1]}`);
  });

  test('TypeScript apps on the legacy resolution (node10, which reads no exports) find every entry through main, types and typesVersions', async () => {
    writeFileSync(
      join(dir, 'legacy.ts'),
      `import { connect } from 'drpc';
import { createEndpoint } from 'drpc/node';
import { http } from 'drpc/http';
import { msgpack } from 'drpc/msgpack';
import { redisBroker } from 'drpc/redis';
const c = connect('ws://127.0.0.1:1/rpc', { transports: ['websocket', http] });
const state: string = c.state;
void [state, createEndpoint, msgpack, redisBroker];
// @ts-expect-error: the state is a union of strings
const wrong: number = c.state;
void wrong;
`,
    );
    assert.equal(await typeErrors(['commonjs', 'node10'], ['legacy.ts']), '');
  });

  test('every TypeScript example in the README type-checks against the package; the complete programs run', async () => {
    const blocks = [...readFileSync(join(ROOT, 'README.md'), 'utf8').matchAll(/^```ts\n([\s\S]*?)^```/gm)].map((m) => m[1]!);
    assert.ok(blocks.length >= 6, `README ts blocks: ${blocks.length}`);
    const names = blocks.map((code, i) => (writeFileSync(join(dir, `readme-${i + 1}.ts`), code), `readme-${i + 1}.ts`));
    assert.equal(await typeErrors(['nodenext', 'nodenext'], names), '', 'the README examples type-check');
    // The in-memory tour, the client + endpoint example and the fault proxy's end by themselves: run them as an app would
    // (compiled by esbuild, then plain node), the endpoint on a free port instead of 3000.
    const runs = [
      { marker: 'memoryPair()', expect: ["push { text: 'hi' }"] },
      { marker: 'contract({', expect: ['open connected over websocket', 'lobby welcome', 'true', '3'] },
      { marker: 'faultProxy({', expect: [] },
    ];
    for (const { marker, expect } of runs) {
      const i = blocks.findIndex((b) => b.includes(marker));
      assert.ok(i >= 0, `no README example holds ${marker}`);
      writeFileSync(join(dir, `run-${i + 1}.ts`), blocks[i]!.replace('port: 3000, ', ''));
      await inApp(join(BIN, 'esbuild'), [`run-${i + 1}.ts`, '--format=esm', `--outfile=run-${i + 1}.mjs`, '--log-level=warning']);
      const lines = (await inApp(process.execPath, [`run-${i + 1}.mjs`])).split('\n');
      for (const e of expect)
        assert.ok(
          lines.some((l) => l.includes(e)),
          `README example ${i + 1} printed no "${e}":\n${lines.join('\n')}`,
        );
    }
  });

  test('a browser bundler picks the browser builds: no ws, no Node built-ins, and drpc/node is the stub that says "Node only"', async () => {
    writeFileSync(
      join(dir, 'page.mjs'),
      `export { connect } from 'drpc';\nexport { http } from 'drpc/http';\nexport { createEndpoint } from 'drpc/node';\n`,
    );
    await inApp(join(BIN, 'esbuild'), [
      'page.mjs',
      '--bundle',
      '--format=esm',
      '--platform=browser',
      '--outfile=page.js',
      '--metafile=page.json',
    ]);
    const inputs = Object.keys((JSON.parse(readFileSync(join(dir, 'page.json'), 'utf8')) as { inputs: object }).inputs);
    const ours = inputs.filter((i) => i !== 'page.mjs');
    assert.ok(ours.length > 0 && ours.every((i) => i.startsWith('node_modules/drpc/dist/browser/')), `bundled: ${ours.join(', ')}`);
    const bundle = readFileSync(join(dir, 'page.js'), 'utf8');
    assert.doesNotMatch(bundle, /from\s*["'](ws|node:[a-z]+)["']/, 'no ws or node: import');
    const page = (await import(join(dir, 'page.js'))) as { connect: unknown; createEndpoint: () => unknown };
    assert.equal(typeof page.connect, 'function');
    assert.throws(() => page.createEndpoint(), /drpc\/node is Node only/);
  });
});
