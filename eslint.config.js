import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', '.cluster/', 'eslint.config.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/no-floating-promises': 'error',
      'no-console': 'off',
    },
  },
  {
    // The core is pure: schedule math, planning and the wire rules take what they need as
    // arguments, so they are tested without a cluster, a server or a disk. Kubernetes types are
    // fine; its client, servers, sockets, files and processes are not.
    files: ['domain/**/*.ts'],
    ignores: ['domain/**/*.test.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: '@kubernetes/client-node',
              allowTypeImports: true,
              message: 'domain/ is pure: types only',
            },
          ],
          patterns: [
            {
              regex:
                '^(node:)?(fs|fs/promises|net|http|https|http2|dgram|dns|child_process|worker_threads|cluster|tls)$',
              message: 'domain/ is pure: I/O belongs in kube/, api/, operator/ or lib/',
            },
            {
              regex: '^(koa|@koa/.*|pino|prom-client)$',
              message: 'domain/ is pure: servers and logs live outside it',
            },
          ],
        },
      ],
    },
  },
  {
    // chai's property assertions (`.to.be.empty`) are expressions by design.
    files: ['**/*.test.ts'],
    rules: { '@typescript-eslint/no-unused-expressions': 'off' },
  },
);
