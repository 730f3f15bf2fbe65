// Lint: typescript-eslint's recommended type-aware-free rules; `any` is banned outside tests.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'bench/results/', 'bench/peers/', 'test/interop/bin/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-sequences': 'off',
      '@typescript-eslint/no-unused-expressions': ['error', { allowShortCircuit: true, allowTernary: true }],
    },
  },
  {
    files: ['test/**', 'bench/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // The web demo's page and worker: plain browser modules, no build step.
    files: ['demo-web/**/*.js'],
    languageOptions: {
      globals: Object.fromEntries(
        [
          'window',
          'self',
          'document',
          'location',
          'localStorage',
          'performance',
          'requestAnimationFrame',
          'setTimeout',
          'clearTimeout',
          'setInterval',
          'clearInterval',
          'Worker',
          'WorkerGlobalScope',
        ].map((name) => [name, 'readonly']),
      ),
    },
  },
);
