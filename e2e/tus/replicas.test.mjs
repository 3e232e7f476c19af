// tus-js-client against three imgmgr replicas sharing PostgreSQL, Redis and
// MinIO, through a tiny loopback balancer that sends every request to the
// next replica (no affinity): every PATCH and HEAD of an upload lands on
// another process than the one before. Needs the services that
// scripts/services.sh starts (IMGMGR_TEST_* variables); under CI=true their
// absence fails the suite.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync } from 'node:fs'
import { request as httpRequest, createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Upload } from 'tus-js-client'
import { Server, api, freePort, login, paddedJPEG, serverBinary, sha256 } from './lib.mjs'

const MiB = 1 << 20
const env = process.env
const services = env.IMGMGR_TEST_POSTGRES_URL && env.IMGMGR_TEST_REDIS_URL && env.IMGMGR_TEST_S3_ENDPOINT
if (!services && env.CI === 'true') throw new Error('PostgreSQL, Redis and MinIO are required under CI=true (IMGMGR_TEST_* unset)')

let replicas = []
let balancer, token, dropSchema
const seen = [] // the replica index of each request the balancer forwarded, in order

// schemaURL makes a schema of this run's own and returns the URL using it.
function schemaURL (base, schema) {
  execFileSync('psql', ['-w', '-X', '-q', '-v', 'ON_ERROR_STOP=1', base, '-c', `create schema ${schema}`])
  // (not URLSearchParams: it writes the space as "+", which libpq-style parsers keep)
  return base + (base.includes('?') ? '&' : '?') + 'options=' + encodeURIComponent(`-c search_path=${schema}`)
}

// roundRobin forwards each request to the next replica, headers and body
// as they are (so tus Location URLs name the balancer).
function roundRobin () {
  let next = 0
  return createServer((req, res) => {
    const i = next++ % replicas.length
    seen.push({ i, method: req.method })
    const target = new URL(replicas[i].url)
    const up = httpRequest({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode, r.headers)
      r.pipe(res)
    })
    up.on('error', (err) => { res.writeHead(502); res.end(String(err)) })
    req.pipe(up)
  })
}

before(async () => {
  if (!services) return
  const run = 'e2e' + randomBytes(5).toString('hex')
  const shared = {
    IMGMGR_DATABASE_URL: schemaURL(env.IMGMGR_TEST_POSTGRES_URL, run),
    IMGMGR_REDIS_URL: env.IMGMGR_TEST_REDIS_URL,
    IMGMGR_REDIS_PREFIX: `imgmgr-${run}:`,
    IMGMGR_STORAGE_BACKEND: 's3',
    IMGMGR_STORAGE_S3_ENDPOINT: env.IMGMGR_TEST_S3_ENDPOINT,
    IMGMGR_STORAGE_S3_BUCKET: env.IMGMGR_TEST_S3_BUCKET,
    IMGMGR_STORAGE_S3_ACCESS_KEY: env.IMGMGR_TEST_S3_ACCESS_KEY,
    IMGMGR_STORAGE_S3_SECRET_KEY: env.IMGMGR_TEST_S3_SECRET_KEY,
    IMGMGR_STORAGE_S3_PREFIX: run + '/',
    IMGMGR_AUTH_JWT_KEY: randomBytes(32).toString('hex'),
    IMGMGR_DELIVERY_KEYS: JSON.stringify([{ key: randomBytes(32).toString('hex'), salt: randomBytes(32).toString('hex') }]),
    IMGMGR_DELIVERY_EAGER_PRESETS: '[]'
  }
  dropSchema = () => execFileSync('psql', ['-w', '-X', '-q', env.IMGMGR_TEST_POSTGRES_URL, '-c', 'set client_min_messages = warning', '-c', `drop schema ${run} cascade`])
  const work = mkdtempSync(join(tmpdir(), 'imgmgr-e2e-replicas-'))
  const bin = serverBinary()
  for (let i = 0; i < 3; i++) replicas.push(new Server(bin, await freePort(), join(work, 'data' + i), shared))
  await replicas[0].start() // migrates the shared schema
  await Promise.all(replicas.slice(1).map((r) => r.start()))
  balancer = roundRobin()
  await new Promise((resolve) => balancer.listen(0, '127.0.0.1', resolve))
  balancer.url = `http://127.0.0.1:${balancer.address().port}`
  token = await login(balancer)
})

after(async () => {
  balancer?.close()
  await Promise.all(replicas.map((r) => r.kill('SIGTERM')))
  dropSchema?.()
})

test('tus-js-client through a round-robin balancer over three replicas', { skip: !services && 'services not configured' }, async () => {
  const src = paddedJPEG(21 * MiB + 4321)
  const from = seen.length
  const imageId = await new Promise((resolve, reject) => {
    const u = new Upload(src, {
      endpoint: balancer.url + '/api/v1/uploads/',
      headers: { Authorization: 'Bearer ' + token },
      chunkSize: 5 * MiB,
      retryDelays: [0, 500, 1000, 2000],
      metadata: { filename: 'replicas.jpg', filetype: 'image/jpeg' },
      onError: reject,
      onSuccess: ({ lastResponse }) => resolve(lastResponse.getHeader('Upload-Image-Id'))
    })
    u.start()
  })
  const reqs = seen.slice(from)
  const patches = reqs.filter((r) => r.method === 'PATCH')
  assert.equal(patches.length, 5, 'five 5 MiB PATCHes')
  assert.equal(new Set(patches.map((r) => r.i)).size, 3, 'the PATCHes landed on all three replicas')
  assert.ok(imageId, 'the completing response carries Upload-Image-Id')
  const res = await api(balancer, 'GET', '/api/v1/images/' + imageId, token)
  assert.equal(res.status, 200, JSON.stringify(res.body))
  assert.equal(res.body.sha256, sha256(src), 'stored SHA-256 equals the source')
})
