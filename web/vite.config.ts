/// <reference types="vitest/config" />
import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'

// The dev server proxies the API to a running imgmgr (make run), so
// `npm run dev` serves the UI with hot reload against real data.
const target = process.env.IMGMGR_URL ?? 'http://127.0.0.1:8080'

export default defineConfig({
  plugins: [vue()],
  build: {
    outDir: 'dist',
    emptyOutDir: true, // public/.gitkeep puts dist/.gitkeep back
    assetsDir: 'assets',
    target: 'es2022',
    sourcemap: false,
  },
  server: {
    proxy: {
      '/api/v1/events': { target, ws: true, changeOrigin: true },
      '/api': { target, changeOrigin: true },
      '/img': { target, changeOrigin: true },
    },
  },
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
  },
})
