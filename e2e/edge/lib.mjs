// Helpers of the edge worker's suite: the imgmgr process, its API, the
// worker in workerd (through miniflare), images' dimensions from their bytes.
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Miniflare } from 'miniflare'

export const here = dirname(fileURLToPath(import.meta.url))
export { repoRoot, serverBinary, freePort } from '../common.mjs'
import { repoRoot, serverBinary, freePort } from '../common.mjs'
export const workerDir = join(repoRoot, 'deploy/edge/cloudflare')

export const adminPassword = 'correct-horse-battery-staple'

// Delivery keys of the test server, hex as in delivery.keys.
export const deliveryKey = { key: '6564676520746573742b6b6579', salt: '6564676520746573742b73616c74' }

// startServer starts imgmgr on a fresh data dir (SQLite, local blobs) with
// the test delivery key, and resolves once it listens. stop() ends it.
export async function startServer () {
  const port = await freePort()
  const dataDir = mkdtempSync(join(tmpdir(), 'imgmgr-edge-data-'))
  const p = spawn(serverBinary(), ['--port', String(port), '--data-dir', dataDir], {
    env: {
      ...process.env,
      IMGMGR_ADMIN_USERNAME: 'admin',
      IMGMGR_ADMIN_PASSWORD: adminPassword,
      IMGMGR_DELIVERY_KEYS: JSON.stringify([deliveryKey])
    },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  await new Promise((resolve, reject) => {
    let log = ''
    const onData = (b) => {
      log += b
      if (/listening/.test(log)) {
        p.stdout.off('data', onData)
        p.stderr.off('data', onData)
        resolve()
      }
    }
    p.stdout.on('data', onData)
    p.stderr.on('data', onData)
    p.once('exit', (code) => reject(new Error(`imgmgr exited (${code}) before listening:\n${log}`)))
    setTimeout(() => reject(new Error('imgmgr not listening after 60s:\n' + log)), 60000).unref()
  })
  // Keep draining its output so that a full pipe never blocks it.
  p.stdout.resume()
  p.stderr.resume()
  const url = `http://127.0.0.1:${port}`
  return {
    url,
    stop: () => new Promise((resolve) => {
      if (p.exitCode !== null || p.signalCode !== null) return resolve()
      p.once('exit', () => resolve())
      p.kill('SIGTERM')
    })
  }
}

export async function login (server) {
  const res = await fetch(server.url + '/api/v1/auth/login', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: adminPassword })
  })
  if (res.status !== 200) throw new Error(`login: ${res.status} ${await res.text()}`)
  return (await res.json()).access_token
}

// upload stores bytes through the multipart API and returns the image.
export async function upload (server, token, bytes, filename, visibility) {
  const form = new FormData()
  form.set('visibility', visibility)
  form.set('file', new Blob([bytes]), filename)
  const res = await fetch(server.url + '/api/v1/images', { method: 'POST', headers: { Authorization: 'Bearer ' + token }, body: form })
  const body = await res.json()
  if (res.status !== 201) throw new Error(`upload: ${res.status} ${JSON.stringify(body)}`)
  return body.results[0].image
}

// variantRequests is how many variant requests imgmgr has served (cache
// hits, misses and 304s), from its Prometheus counter.
export async function variantRequests (server) {
  const text = await (await fetch(server.url + '/metrics')).text()
  let n = 0
  for (const line of text.split('\n')) {
    if (line.startsWith('imgmgr_variant_cache_requests_total')) n += Number(line.split(' ').pop())
  }
  return n
}

// compatibilityDate is the one wrangler.toml deploys with, so that the
// tests run the runtime's behaviour the deployment gets.
export function compatibilityDate () {
  const toml = readFileSync(join(workerDir, 'wrangler.toml'), 'utf8')
  const m = /^compatibility_date\s*=\s*"([0-9-]+)"/m.exec(toml)
  if (!m) throw new Error('wrangler.toml: no compatibility_date')
  return m[1]
}

// startWorker runs the edge worker in workerd with the given bindings.
export function startWorker (bindings) {
  return new Miniflare({
    modules: true,
    modulesRoot: workerDir,
    modulesRules: [{ type: 'ESModule', include: ['**/*.js'] }],
    scriptPath: join(workerDir, 'src/index.js'),
    compatibilityDate: compatibilityDate(),
    bindings
  })
}
