// End-to-end tests of imgmgr's tus endpoint, driven by the real
// tus-js-client 4 against the real server (IMGMGR_E2E_BIN, or the test
// server wired through the real packages). Every successful upload is
// checked by fetching the stored image and comparing its SHA-256 with the
// source's.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { promisify } from 'node:util'
import { Upload, FileUrlStorage } from 'tus-js-client'
import { Server, api, freePort, here, login, paddedJPEG, photo, serverBinary, sha256 } from './lib.mjs'

const MiB = 1 << 20
let server, token, endpoint, work

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'imgmgr-e2e-tus-'))
  server = new Server(serverBinary(), await freePort(), join(work, 'data'))
  await server.start()
  token = await login(server)
  endpoint = server.url + '/api/v1/uploads/'
})

after(() => server.kill('SIGTERM'))

// upload runs one tus upload to its end and resolves with the upload and
// the image id from the last response, or rejects with the client's error.
function upload (input, options = {}) {
  return new Promise((resolve, reject) => {
    const u = new Upload(input, {
      endpoint,
      headers: { Authorization: 'Bearer ' + token },
      retryDelays: [0, 500, 1000],
      metadata: { filename: 'photo.jpg', filetype: 'image/jpeg' },
      ...options,
      onError: reject,
      onSuccess: ({ lastResponse }) => resolve({ upload: u, imageId: lastResponse.getHeader('Upload-Image-Id') })
    })
    u.start()
  })
}

// stored checks that the image exists and holds exactly the source's bytes.
async function assertStored (imageId, source) {
  assert.ok(imageId, 'the completing response carries Upload-Image-Id')
  const res = await api(server, 'GET', '/api/v1/images/' + imageId, token)
  assert.equal(res.status, 200, JSON.stringify(res.body))
  assert.equal(res.body.sha256, sha256(source), 'stored SHA-256 equals the source')
  assert.equal(res.body.size, source.length)
  return res.body
}

test('simple upload', async () => {
  const src = photo()
  const { imageId } = await upload(src, { metadata: { filename: 'concert.jpg', title: 'Concert', tags: 'live,music' } })
  const im = await assertStored(imageId, src)
  assert.equal(im.filename, 'concert.jpg')
  assert.equal(im.title, 'Concert')
})

test('1 MiB chunks', async () => {
  const src = paddedJPEG(5 * MiB + 12345)
  const patches = []
  const { imageId } = await upload(src, {
    chunkSize: MiB,
    onAfterResponse: (req) => { if (req.getMethod() === 'PATCH') patches.push(req) }
  })
  assert.equal(patches.length, 6)
  await assertStored(imageId, src)
})

test('interrupted, then resumed in a new process (FileUrlStorage)', async (t) => {
  const src = paddedJPEG(6 * MiB)
  const file = join(work, 'resume.jpg')
  const storage = join(work, 'urls.json')
  writeFileSync(file, src)
  await promisify(execFile)(process.execPath, [join(here, 'resume-child.mjs'), endpoint, token, file, storage, String(3 * MiB)])

  const urlStorage = new FileUrlStorage(storage)
  const probe = new Upload(src, { endpoint, urlStorage })
  const previous = await probe.findPreviousUploads()
  assert.equal(previous.length, 1, 'the child left its upload in the URL storage')
  let resumedAt = -1
  const { upload: u, imageId } = await new Promise((resolve, reject) => {
    const up = new Upload(src, {
      endpoint,
      urlStorage,
      chunkSize: MiB,
      headers: { Authorization: 'Bearer ' + token },
      onAfterResponse: (req, res) => {
        if (req.getMethod() === 'HEAD') resumedAt = Number(res.getHeader('Upload-Offset'))
      },
      onError: reject,
      onSuccess: ({ lastResponse }) => resolve({ upload: up, imageId: lastResponse.getHeader('Upload-Image-Id') })
    })
    up.resumeFromPreviousUpload(previous[0])
    up.start()
  })
  t.diagnostic(`resumed in a new process at offset ${resumedAt}`)
  assert.ok(resumedAt >= 2 * MiB && resumedAt < src.length, `resumed at offset ${resumedAt}, not from the start`)
  assert.equal(u.url, previous[0].uploadUrl)
  await assertStored(imageId, src)
})

test('server killed with SIGKILL mid-upload, restarted, upload resumed', async (t) => {
  const src = paddedJPEG(24 * MiB)
  let acked = 0 // the last offset the server acknowledged before the kill
  let killed = null
  let resumedAt = -1
  const { imageId } = await upload(src, {
    chunkSize: MiB,
    retryDelays: [200, 500, 1000, 1000, 2000, 2000, 3000, 3000, 5000, 5000],
    onAfterResponse: (req, res) => {
      if (req.getMethod() === 'PATCH' && !killed) acked = Number(res.getHeader('Upload-Offset'))
      if (req.getMethod() === 'HEAD' && killed && resumedAt < 0) resumedAt = Number(res.getHeader('Upload-Offset'))
    },
    onProgress: (sent) => {
      if (sent >= 10 * MiB && !killed) {
        killed = server.kill('SIGKILL').then(() => server.start())
      }
    }
  })
  await killed
  t.diagnostic(`acknowledged ${acked} before SIGKILL; resumed at ${resumedAt}`)
  assert.ok(acked >= 8 * MiB, `acknowledged ${acked} before the kill`)
  assert.ok(resumedAt >= acked, `resumed at ${resumedAt}: every acknowledged byte (${acked}) survived`)
  assert.ok(resumedAt < src.length)
  token = await login(server) // tokens outlive the restart; a new one for the checks anyway
  await assertStored(imageId, src)
})

test('parallelUploads: 3 (concatenation)', async () => {
  const src = paddedJPEG(6 * MiB + 7)
  const posts = []
  const { imageId } = await upload(src, {
    parallelUploads: 3,
    onBeforeRequest: (req) => { if (req.getMethod() === 'POST') posts.push(req.getHeader('Upload-Concat')) }
  })
  assert.equal(posts.filter((c) => c === 'partial').length, 3)
  assert.ok(posts.some((c) => c && c.startsWith('final;')))
  await assertStored(imageId, src)
})

test('deferred length (a stream of unknown size)', async () => {
  const src = paddedJPEG(3 * MiB + 99)
  const pieces = []
  for (let i = 0; i < src.length; i += 100000) pieces.push(src.subarray(i, i + 100000))
  const { imageId } = await upload(Readable.from(pieces), { uploadLengthDeferred: true, chunkSize: MiB })
  await assertStored(imageId, src)
})

test('zero-byte file is rejected', async () => {
  await assert.rejects(upload(Buffer.alloc(0)), (err) => {
    assert.equal(err.originalResponse.getStatus(), 400)
    assert.equal(JSON.parse(err.originalResponse.getBody()).error.code, 'empty_file')
    return true
  })
})

test('a file that is not an image is rejected by ingest', async () => {
  await assert.rejects(upload(Buffer.from('just some text, not an image')), (err) => {
    assert.equal(err.originalResponse.getStatus(), 415)
    return true
  })
})

test('creation-with-upload', async () => {
  const src = paddedJPEG(2 * MiB)
  const methods = []
  const { imageId } = await upload(src, {
    uploadDataDuringCreation: true,
    onBeforeRequest: (req) => methods.push(req.getMethod())
  })
  assert.deepEqual(methods, ['POST'], 'the whole file went in the creation request')
  await assertStored(imageId, src)
})
