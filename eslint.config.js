// Lint: TypeScript rules, plus the house layering — pure cores (core, nifti, data, weights) never import
// React, the DOM-facing app layers or tfjs (render/ is pure too); the UI never imports tfjs; the store never imports the
// UI; the command line (src/cli) never imports the store, the UI, React or zustand.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const pureBan = {
  patterns: [
    { group: ['react', 'react-dom', 'react/*', 'zustand', 'zustand/*'], message: 'Pure cores know nothing of React or the store.', allowTypeImports: true },
    { group: ['@tensorflow/*'], message: 'Pure cores know nothing of tfjs.', allowTypeImports: true },
    { group: ['**/ui/*', '**/store/*', '**/workers/*', '**/model/*', '**/train/*'], message: 'Imports point inward: core ← nifti, weights ← data ← model ← train ← workers ← store ← ui.', allowTypeImports: true },
  ],
};

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'public/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  { files: ['src/core/**', 'src/nifti/**', 'src/data/**', 'src/weights/**', 'src/render/**'], rules: { 'no-restricted-imports': ['error', pureBan] } },
  {
    files: ['src/ui/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['@tensorflow/*'], message: 'UI talks to workers; only model/, train/ and workers touch tfjs.', allowTypeImports: true }] }],
    },
  },
  {
    files: ['src/cli/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { group: ['react', 'react-dom', 'react/*', 'zustand', 'zustand/*'], message: 'The command line runs the engine without a page.', allowTypeImports: true },
        { group: ['**/ui/*', '**/store/*'], message: 'The command line uses the engine (train, workers\' jobs), not the app\'s store or UI.', allowTypeImports: false },
      ] }],
    },
  },
  {
    files: ['src/store/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { group: ['@tensorflow/*'], message: 'The store talks to workers; only model/, train/ and workers touch tfjs.', allowTypeImports: true },
        { group: ['**/ui/*'], message: 'Imports point inward: the store never imports the UI.', allowTypeImports: false },
      ] }],
    },
  },
);
