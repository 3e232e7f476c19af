import { defineConfig } from 'vitest/config'

// The browser suite: starts the real imgmgr binary and drives Debian's
// Chromium through playwright-core. Run with `npm run e2e`.
export default defineConfig({
  test: {
    include: ['e2e/**/*.e2e.ts'],
    environment: 'node',
    testTimeout: 180_000,
    hookTimeout: 300_000,
    fileParallelism: false,
  },
})
