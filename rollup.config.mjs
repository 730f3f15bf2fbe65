// Three builds:
// - dist/esm: the package (isomorphic core + Node adapter), dependencies external, not minified.
// - dist/browser: minified ESM for browsers with the dependencies bundled; entries share chunks, so
//   `drpc` and `drpc/msgpack` loaded together hold one DrpcError class. `node.js` is the throwing stub.
// - dist/size: one single-file bundle per size budget (what an app's bundler would produce), read by
//   scripts/size.mjs; never shipped.
import { rmSync } from 'node:fs';
import { nodeResolve } from '@rollup/plugin-node-resolve';
import esbuild from 'rollup-plugin-esbuild';

const onwarn = (w) => {
  throw new Error(`rollup ${w.code}: ${w.message}`);
};
const extensions = ['.ts', '.mjs', '.js'];

// scripts/size.mjs reads every file in these dirs: start them empty so no stale file is measured.
// (The browser build runs before the size builds: the CLI builds the configs in order.)
const cleanBrowserDirs = {
  name: 'clean-browser-dirs',
  buildStart() {
    for (const dir of ['dist/browser', 'dist/size']) rmSync(dir, { recursive: true, force: true });
  },
};

const browserPlugins = () => [
  // browser: true also honours package.json "browser" fields. `ws` (Node 20's WebSocket) is loaded by a
  // variable specifier at run time (src/transport/websocket.ts), so no bundler sees it.
  nodeResolve({ browser: true, exportConditions: ['browser', 'import', 'default'], preferBuiltins: false, extensions }),
  esbuild({ target: 'es2022', minify: true, tsconfig: 'tsconfig.json' }),
];

// package.json says "sideEffects": false, and an app's bundler (webpack, rollup, esbuild, vite) drops
// our modules whose exports it does not use. Files reached by relative path from the entries do not
// get that from the package, so it is said here, for the browser and size builds.
const ours = /[\\/](src|adapters)[\\/]/;
const treeshake = { moduleSideEffects: (id) => !ours.test(id) };

const esm = {
  input: {
    index: 'src/index.ts',
    msgpack: 'src/codec/msgpack.ts',
    http: 'src/transport/http.ts',
    node: 'adapters/node/index.ts',
    redis: 'adapters/redis/index.ts',
  },
  external: (id) => /^(ws|ioredis)$/.test(id) || id.startsWith('node:'),
  output: { dir: 'dist/esm', format: 'es', sourcemap: true, chunkFileNames: '[name].js' },
  plugins: [nodeResolve({ extensions }), esbuild({ target: 'es2022', tsconfig: 'tsconfig.json' })],
  onwarn,
};

const browser = {
  input: {
    index: 'src/index.ts',
    msgpack: 'src/codec/msgpack.ts',
    http: 'src/transport/http.ts',
    node: 'adapters/node/browser-stub.ts',
    redis: 'adapters/redis/browser-stub.ts',
  },
  output: { dir: 'dist/browser', format: 'es', sourcemap: true, chunkFileNames: 'chunks/[name].js' },
  plugins: [cleanBrowserDirs, ...browserPlugins()],
  treeshake,
  onwarn,
};

const sizeEntries = ['core', 'core-msgpack', 'core-http', 'core-serve'];
const size = sizeEntries.map((name) => ({
  input: `scripts/size-entries/${name}.ts`,
  output: { file: `dist/size/${name}.js`, format: 'es', inlineDynamicImports: true },
  plugins: browserPlugins(),
  treeshake,
  onwarn,
}));

export default [esm, browser, ...size];
