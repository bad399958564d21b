// ESLint flat config: typescript-eslint's recommended rules on every package, Node globals for the
// scripts, and eslint-config-prettier last so that formatting is Prettier's alone (`npm run format`).
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/', '**/node_modules/', '**/.turbo/', 'bench-results/', 'test-artifacts/', 'reports/', 'scratch/', 'out/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2023, sourceType: 'module', globals: { ...globals.node } },
    rules: {
      // Unused names are an error, as in tsconfig; a leading `_` marks one kept on purpose.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // Named option interfaces that extend one base (`interface Labelled extends NodeOptions {}`) are public API names.
      '@typescript-eslint/no-empty-object-type': ['error', { allowInterfaces: 'with-single-extends' }],
      // Errors restate their cause in one line of their own (file, what was expected, the OS reason), on purpose.
      'preserve-caught-error': 'off',
      // Control characters in patterns are deliberate: stripping ANSI escapes, rejecting control bytes in input.
      'no-control-regex': 'off',
    },
  },
  {
    files: ['**/*.test.ts'],
    // Tests match aligned table output literally, column spaces included.
    rules: { 'no-regex-spaces': 'off' },
  },
  {
    files: ['bench/**/*.mjs'],
    // The measurement scripts use comma sequences (`if (a) (x++, y++)`) as statements, on purpose.
    rules: { '@typescript-eslint/no-unused-expressions': 'off' },
  },
  { files: ['packages/web/src/**/*.ts'], ignores: ['**/*.test.ts'], languageOptions: { globals: { ...globals.browser } } },
  prettier,
);
