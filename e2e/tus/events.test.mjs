// The events WebSocket through two server processes sharing one real
// Redis: a user watching on one server sees created -> progress... ->
// completed for the upload they send to the other, and nothing of another
// user's upload. Needs Redis (IMGMGR_TEST_REDIS_URL, default
// redis://127.0.0.1:6379/0): skipped when it is missing, failed under CI=true.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Upload } from 'tus-js-client'
import { Server, api, freePort, login, paddedJPEG, serverBinary } from './lib.mjs'

const redisURL = process.env.IMGMGR_TEST_REDIS_URL || 'redis://127.0.0.1:6379/0'
let a, b, redisUp

function reachable (url) {
  const u = new URL(url)
  return new Promise((resolve) => {
    const s = connect(Number(u.port || 6379), u.hostname, () => { s.end(); resolve(true) })
    s.on('error', () => resolve(false))
  })
}

before(async () => {
  redisUp = await reachable(redisURL)
  if (!redisUp) {
    if (process.env.CI === 'true') throw new Error('Redis is required under CI=true: ' + redisURL)
    return
  }
  const work = mkdtempSync(join(tmpdir(), 'imgmgr-e2e-events-'))
  const bin = serverBinary()
  const extra = { IMGMGR_REDIS_URL: redisURL, IMGMGR_REDIS_PREFIX: `imgmgr-e2e:${process.pid}:${Date.now()}:` }
  // Two replicas share one database and store, as in a real deployment.
  a = await new Server(bin, await freePort(), join(work, 'data'), extra).start()
  b = await new Server(bin, await freePort(), join(work, 'data'), extra).start()
})

after(async () => {
  await a?.kill()
  await b?.kill()
})

// watch opens the events WebSocket with the token in a subprotocol and
// resolves once the server says it is subscribed.
function watch (server, token) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(server.url.replace('http', 'ws') + '/api/v1/events', ['imgmgr.v1', 'imgmgr.bearer.' + token])
    const events = []
    ws.onmessage = (m) => {
      const ev = JSON.parse(m.data)
      if (ev.type === 'ready') resolve({ ws, events })
      else events.push(ev)
    }
    ws.onerror = reject
  })
}

function upload (server, token, src) {
  return new Promise((resolve, reject) => {
    const u = new Upload(src, {
      endpoint: server.url + '/api/v1/uploads/',
      headers: { Authorization: 'Bearer ' + token },
      chunkSize: 256 << 10,
      metadata: { filename: 'watched.jpg' },
      onError: reject,
      onSuccess: ({ lastResponse }) => resolve({ id: u.url.split('/').pop(), imageId: lastResponse.getHeader('Upload-Image-Id') })
    })
    u.start()
  })
}

async function waitFor (cond) {
  for (let i = 0; i < 500; i++) {
    if (cond()) return
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  throw new Error('condition not reached in 10s')
}

test('events of an upload on one server reach its owner on the other', async (t) => {
  if (!redisUp) return t.skip('Redis not available at ' + redisURL)
  const adminA = await login(a)
  const adminB = await login(b)
  // A second user on server B, whose upload alice must not see.
  assert.equal((await api(b, 'POST', '/api/v1/users', adminB, { username: 'bob', password: 'password-of-bob' })).status, 201)
  const bob = (await api(b, 'POST', '/api/v1/auth/login', '', { username: 'bob', password: 'password-of-bob' })).body.access_token

  const { ws, events } = await watch(a, adminA)
  try {
    await upload(b, bob, paddedJPEG(1 << 20))
    const mine = await upload(b, adminB, paddedJPEG(1 << 20))
    await waitFor(() => events.some((e) => e.type === 'upload.completed' && e.upload_id === mine.id))
    const uploads = new Set(events.map((e) => e.upload_id))
    assert.deepEqual([...uploads], [mine.id], 'only the watcher\'s own upload')
    const types = events.map((e) => e.type)
    assert.equal(types[0], 'upload.created')
    assert.ok(types.indexOf('upload.progress') > 0, 'progress after created: ' + types)
    assert.ok(types.indexOf('upload.completed') > types.indexOf('upload.progress'))
    const done = events.find((e) => e.type === 'upload.completed')
    assert.equal(done.image_id, mine.imageId)
  } finally {
    ws.close()
  }
})
