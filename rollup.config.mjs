// ESM build of the isomorphic core and the Node adapter (dist/esm) with dependencies left external.
// The minified browser bundle and its size budget join in the bundle issue.
import { nodeResolve } from '@rollup/plugin-node-resolve';
import esbuild from 'rollup-plugin-esbuild';

const onwarn = (w) => {
  throw new Error(`rollup ${w.code}: ${w.message}`);
};

export default {
  input: { index: 'src/index.ts', msgpack: 'src/codec/msgpack.ts', node: 'adapters/node/index.ts' },
  external: (id) => /^(msgpackr|nanoevents|ws|isomorphic-ws)$/.test(id) || id.startsWith('node:'),
  output: { dir: 'dist/esm', format: 'es', sourcemap: true, chunkFileNames: '[name].js' },
  plugins: [nodeResolve({ extensions: ['.ts', '.mjs', '.js'] }), esbuild({ target: 'es2022', tsconfig: 'tsconfig.json' })],
  onwarn,
};
