// Where the bytes of a size-budget bundle come from: each module's share of the minified bundle, and
// an estimate of its share after gzip (the bundle's gzip ratio applied to its minified bytes).
// Usage: node scripts/size-modules.mjs [core|core-http|core-msgpack] [--stub=a,b] — builds in memory,
// writes nothing. --stub replaces src/<name>.ts modules by empty exports, to weigh what a part costs.
import { gzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import process from 'node:process';
import { rollup } from 'rollup';
import { nodeResolve } from '@rollup/plugin-node-resolve';
import esbuild from 'rollup-plugin-esbuild';
/* global console */

const entry = process.argv.find((a, i) => i > 1 && !a.startsWith('--')) ?? 'core';
const stubs = (process.argv.find((a) => a.startsWith('--stub='))?.slice(7) ?? '').split(',').filter(Boolean);

const stub = {
  name: 'stub',
  load(id) {
    if (!stubs.some((s) => id.endsWith(`/src/${s}.ts`))) return null;
    const names = [...readFileSync(id, 'utf8').matchAll(/export (?:async )?(?:function|class|const|let) (\w+)/g)].map((m) => m[1]);
    return names.map((n) => `export const ${n} = class {};`).join('\n') + '\nexport {};';
  },
};

const bundle = await rollup({
  input: `scripts/size-entries/${entry}.ts`,
  plugins: [
    stub,
    nodeResolve({
      browser: true,
      exportConditions: ['browser', 'import', 'default'],
      preferBuiltins: false,
      extensions: ['.ts', '.mjs', '.js'],
    }),
    esbuild({ target: 'es2022', minify: true, tsconfig: 'tsconfig.json' }),
  ],
  treeshake: { moduleSideEffects: (id) => !/[\\/](src|adapters)[\\/]/.test(id) },
  onwarn: () => {},
});
const [chunk] = (await bundle.generate({ format: 'es', inlineDynamicImports: true })).output;
const gz = gzipSync(chunk.code, { level: 9 }).length;
const ratio = gz / chunk.code.length;
const rows = Object.entries(chunk.modules)
  .map(([id, m]) => [id.slice(process.cwd().length + 1), m.renderedLength])
  .filter(([, n]) => n > 0)
  .sort((a, b) => b[1] - a[1]);
for (const [id, n] of rows) console.log(`${String(n).padStart(7)}  ~${String(Math.round(n * ratio)).padStart(5)} gz  ${id}`);
console.log(`${entry}${stubs.length ? ` (stubbed: ${stubs.join(', ')})` : ''}: ${chunk.code.length} B min, ${gz} B min+gzip`);
