import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Each file starts its own app (an in-memory PGlite takes seconds); two cores, two forks.
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: [
      // The service: unit, HTTP, integration, process and browser (e2e) tests.
      { extends: true, test: { name: 'api', include: ['test/**/*.test.ts'] } },
      // The AWS CDK app: assertions on the synthesized CloudFormation, offline.
      {
        extends: true,
        test: { name: 'infra', root: './infra/aws', include: ['test/**/*.test.ts'] },
      },
      // The web UI's views, rendered in happy-dom with the Vite config that builds them.
      {
        extends: './web/vite.config.ts',
        root: './web',
        test: {
          name: 'web',
          include: ['test/**/*.test.{ts,tsx}'],
          environment: 'happy-dom',
          setupFiles: ['./test/setup.ts'],
        },
      },
    ],
    coverage: {
      provider: 'v8',
      include: ['src/**/*.ts', 'web/src/**/*.{ts,tsx}'],
      exclude: ['src/main.ts', 'src/migrate.ts', 'src/healthcheck.ts', 'web/src/main.tsx'],
      reporter: ['text-summary', 'lcov'],
      thresholds: { lines: 85, functions: 85, branches: 75, statements: 85 },
    },
  },
});
