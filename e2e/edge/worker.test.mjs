// The edge worker (deploy/edge/cloudflare) in workerd, through miniflare,
// against a real imgmgr on loopback: friendly URLs to signed variants,
// format negotiation, the edge cache, refusals and the origin's own.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { imageInfo } from './dims.mjs'
import { deliveryKey, freePort, login, repoRoot, startServer, startWorker, upload, variantRequests } from './lib.mjs'

const photo = readFileSync(join(repoRoot, 'testdata/images/photo/2569067123_aca715a2ee_o.jpg')) // 2725x2225
const small = readFileSync(join(repoRoot, 'testdata/images/photo/concert.jpg')) // 400x267
const host = 'https://img.example.test'
const browsers = {
  avif: 'image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8',
  webp: 'image/webp,*/*',
  jpeg: 'image/png,image/*;q=0.8,*/*;q=0.5'
}

let server, worker, pub, priv, anim

function settings (over = {}) {
  return {
    ORIGIN_URL: server.url,
    IMGMGR_KEY: deliveryKey.key,
    IMGMGR_SALT: deliveryKey.salt,
    SIGNATURE_SIZE: '32',
    WIDTHS: '320,640,800',
    HEIGHTS: '480',
    PRESETS: 'thumb,card',
    ...over
  }
}

before(async () => {
  server = await startServer()
  const token = await login(server)
  pub = await upload(server, token, photo, 'photo.jpg', 'public')
  priv = await upload(server, token, small, 'private.jpg', 'private')
  anim = await upload(server, token, readFileSync(join(repoRoot, 'testdata/images/animated/rotating-squares.gif')), 'anim.gif', 'public')
  worker = startWorker(settings())
  await worker.ready
})

after(async () => {
  await worker?.dispose()
  await server?.stop()
})

async function get (path, headers = {}, mf = worker) {
  const res = await mf.dispatchFetch(host + path, { headers })
  const body = Buffer.from(await res.arrayBuffer())
  return { res, body }
}

async function getJSON (path, headers = {}, mf = worker) {
  const { res, body } = await get(path, headers, mf)
  assert.match(res.headers.get('Content-Type'), /^application\/json/)
  assert.equal(res.headers.get('Cache-Control'), 'no-store')
  return { res, error: JSON.parse(body.toString()).error }
}

// gifFrames counts a GIF's graphic control extensions, one a frame.
function gifFrames (b) {
  let n = 0
  for (let i = b.indexOf(Buffer.from([0x21, 0xf9, 0x04])); i >= 0; i = b.indexOf(Buffer.from([0x21, 0xf9, 0x04]), i + 1)) n++
  return n
}

// fitHeight is the height rs:fit gives the photo at width w.
const fitHeight = (w) => Math.round(2225 * w / 2725)

function assertNear (got, want, what) {
  assert.ok(Math.abs(got - want) <= 1, `${what}: ${got}, want ${want}`)
}

test('a friendly width URL is the right image in the format each Accept negotiates', async () => {
  for (const [format, accept] of Object.entries(browsers)) {
    const { res, body } = await get(`/${pub.id}/w640`, { Accept: accept })
    assert.equal(res.status, 200, body.toString())
    assert.equal(res.headers.get('Content-Type'), 'image/' + format)
    assert.equal(res.headers.get('Vary'), 'Accept')
    assert.equal(res.headers.get('X-Edge-Cache'), 'MISS', format)
    assert.equal(res.headers.get('X-Content-Type-Options'), 'nosniff')
    assert.equal(res.headers.get('Cache-Control'), 'public, max-age=3600')
    assert.equal(res.headers.get('Cache-Tag'), null, 'cache tags are for the edge only')
    const info = imageInfo(body)
    assert.equal(info.format, format)
    assert.equal(info.width, 640)
    assertNear(info.height, fitHeight(640), 'height')
  }
})

test('presets, heights, fits and extensions map to the right variant', async () => {
  const cases = [
    { path: `/${pub.id}/thumb`, accept: browsers.webp, format: 'webp', width: 320, height: 320, vary: true },
    { path: `/${pub.id}/card.jpg`, accept: browsers.avif, format: 'jpeg', width: 800, height: fitHeight(800), vary: false },
    { path: `/${pub.id}/w640h480-fill.png`, accept: browsers.avif, format: 'png', width: 640, height: 480, vary: false },
    { path: `/${pub.id}/w320h480-force.webp`, accept: '', format: 'webp', width: 320, height: 480, vary: false }
  ]
  for (const c of cases) {
    const { res, body } = await get(c.path, { Accept: c.accept })
    assert.equal(res.status, 200, `${c.path}: ${body}`)
    assert.equal(res.headers.get('Content-Type'), 'image/' + c.format, c.path)
    assert.equal(res.headers.get('Vary'), c.vary ? 'Accept' : null, c.path)
    const info = imageInfo(body)
    assert.equal(info.format, c.format, c.path)
    assert.equal(info.width, c.width, c.path)
    assertNear(info.height, c.height, c.path)
  }
})

// Without an extension imgmgr negotiates for the client's Accept class, so
// an animation stays animated (WebP for a browser that takes AVIF and
// WebP, GIF for one that takes neither), as imgmgr alone would answer.
test('a negotiated animation stays animated', async () => {
  const webp = await get(`/${anim.id}/w320`, { Accept: browsers.avif })
  assert.equal(webp.res.status, 200)
  assert.equal(imageInfo(webp.body).format, 'webp')
  assert.ok(webp.body.includes('ANIM'), 'the negotiated WebP has no animation chunk')
  const gif = await get(`/${anim.id}/w320`, { Accept: 'image/jpeg' })
  assert.equal(gif.res.headers.get('Content-Type'), 'image/gif')
  assert.ok(gifFrames(gif.body) > 1, `the negotiated GIF has ${gifFrames(gif.body)} frame(s)`)
})

test('an animation stays animated through an explicit .webp or .gif', async () => {
  const webp = await get(`/${anim.id}/w320.webp`, { Accept: browsers.avif })
  assert.equal(webp.res.status, 200)
  assert.equal(imageInfo(webp.body).format, 'webp')
  assert.ok(webp.body.includes('ANIM'), 'the WebP has no animation chunk')
  const gif = await get(`/${anim.id}/w320.gif`)
  assert.equal(gif.res.headers.get('Content-Type'), 'image/gif')
  assert.ok(gifFrames(gif.body) > 1, `the GIF has ${gifFrames(gif.body)} frame(s)`)
})

test('the second request is an edge cache hit that never reaches the origin', async () => {
  const first = await get(`/${pub.id}/w800`, { Accept: browsers.avif })
  assert.equal(first.res.headers.get('X-Edge-Cache'), 'MISS')
  const seen = await variantRequests(server)
  // Every spelling of the same variant, and every Accept of the same class
  // (which formats of the order the client takes), shares one entry.
  for (const path of [`/${pub.id}/w800`, `/${pub.id}/w800-fit`, `/${pub.id}/w800?utm=x`]) {
    const again = await get(path, { Accept: 'image/webp,image/avif;q=0.9' })
    assert.equal(again.res.status, 200)
    assert.equal(again.res.headers.get('X-Edge-Cache'), 'HIT', path)
    assert.equal(again.res.headers.get('Content-Type'), 'image/avif')
    assert.equal(again.res.headers.get('Vary'), 'Accept')
    assert.equal(again.res.headers.get('ETag'), first.res.headers.get('ETag'))
    assert.ok(again.body.equals(first.body), path + ': other bytes')
  }
  assert.equal(await variantRequests(server), seen, 'the origin served variant requests for cache hits')
  // Another class is another entry, filled once.
  const webp = await get(`/${pub.id}/w800`, { Accept: browsers.webp })
  assert.equal(webp.res.headers.get('X-Edge-Cache'), 'MISS')
  assert.equal(imageInfo(webp.body).format, 'webp')
  assert.equal(await variantRequests(server), seen + 1)
  assert.equal((await get(`/${pub.id}/w800`, { Accept: browsers.webp })).res.headers.get('X-Edge-Cache'), 'HIT')
  // An explicit extension is an entry of its own, without Vary.
  const explicit = await get(`/${pub.id}/w800.webp`)
  assert.equal(explicit.res.headers.get('X-Edge-Cache'), 'MISS')
  assert.equal(explicit.res.headers.get('Vary'), null)
  assert.equal((await get(`/${pub.id}/w800.webp`)).res.headers.get('X-Edge-Cache'), 'HIT')
  assert.equal(await variantRequests(server), seen + 2)
})

test('a matching If-None-Match is 304 and HEAD has no body', async () => {
  const { res } = await get(`/${pub.id}/w320`, { Accept: browsers.webp })
  const etag = res.headers.get('ETag')
  assert.ok(etag)
  const nm = await get(`/${pub.id}/w320`, { Accept: browsers.webp, 'If-None-Match': etag })
  assert.equal(nm.res.status, 304)
  assert.equal(nm.body.length, 0)
  assert.equal(nm.res.headers.get('ETag'), etag)
  assert.equal(nm.res.headers.get('Vary'), 'Accept')
  const head = await worker.dispatchFetch(`${host}/${pub.id}/w320`, { method: 'HEAD', headers: { Accept: browsers.webp } })
  assert.equal(head.status, 200)
  assert.equal(head.headers.get('Content-Type'), 'image/webp')
  assert.equal((await head.arrayBuffer()).byteLength, 0)
})

test('an unknown preset is 404', async () => {
  const { res, error } = await getJSON(`/${pub.id}/huge`)
  assert.equal(res.status, 404)
  assert.equal(error.code, 'unknown_preset')
  // The origin's own preset that the edge does not list is refused too.
  assert.equal((await getJSON(`/${pub.id}/large`)).res.status, 404)
})

test('sizes outside the allow-list are 400', async () => {
  const seen = await variantRequests(server)
  for (const path of [`/${pub.id}/w801`, `/${pub.id}/w4000`, `/${pub.id}/w0640`, `/${pub.id}/w640h481`, `/${pub.id}/w640h9999-fill.webp`]) {
    const { res, error } = await getJSON(path)
    assert.equal(res.status, 400, path)
    assert.equal(error.code, 'size_not_allowed', path)
  }
  for (const path of [`/${pub.id}/w640-squash`, `/${pub.id}/w640x480`, `/${pub.id}/w640.bmp`]) {
    const { res, error } = await getJSON(path)
    assert.equal(res.status, 400, path)
    assert.equal(error.code, 'invalid_option', path)
  }
  assert.equal(await variantRequests(server), seen, 'refused sizes reached the origin')
})

test('other paths and methods are refused as JSON', async () => {
  for (const path of ['/', `/${pub.id}`, `/${pub.id}/w640/x`, '/a.b/w640', `/img/x/rs:fit:640:0/${pub.id}`]) {
    const { res, error } = await getJSON(path)
    assert.equal(res.status, 404, path)
    assert.ok(error.code, path)
  }
  const res = await worker.dispatchFetch(`${host}/${pub.id}/w640`, { method: 'POST', body: 'x' })
  assert.equal(res.status, 405)
  assert.equal(res.headers.get('Allow'), 'GET, HEAD')
  assert.equal((await res.json()).error.code, 'method_not_allowed')
})

test("a wrong key or salt gets the origin's 403, passed through and never cached", async () => {
  for (const over of [{ IMGMGR_KEY: 'aa' + deliveryKey.key.slice(2) }, { IMGMGR_SALT: deliveryKey.salt + '00' }, { SIGNATURE_SIZE: '16' }]) {
    const bad = startWorker(settings(over))
    try {
      for (let i = 0; i < 2; i++) {
        const { res, error } = await getJSON(`/${pub.id}/w640`, { Accept: browsers.webp }, bad)
        assert.equal(res.status, 403, JSON.stringify(over))
        assert.equal(error.code, 'invalid_signature')
        assert.equal(res.headers.get('X-Edge-Cache'), null)
      }
    } finally {
      await bad.dispose()
    }
  }
})

test('a private image is not served by the edge: 404, as for an id that does not exist', async () => {
  const { res, error } = await getJSON(`/${priv.id}/w320`, { Accept: browsers.webp })
  assert.equal(res.status, 404)
  assert.equal(error.code, 'not_found')
  const missing = await getJSON('/01NOSUCHIMAGE0000000000000/w320', { Accept: browsers.webp })
  assert.equal(missing.res.status, 404)
  // Not remembered as anything either: the next request asks again.
  const again = await getJSON(`/${priv.id}/w320`, { Accept: browsers.webp })
  assert.equal(again.res.status, 404)
})

test('an origin that cannot be reached is 502 with Retry-After', async () => {
  const down = startWorker(settings({ ORIGIN_URL: `http://127.0.0.1:${await freePort()}` }))
  try {
    const { res, error } = await getJSON(`/${pub.id}/w640`, { Accept: browsers.webp }, down)
    assert.equal(res.status, 502)
    assert.equal(error.code, 'origin_unreachable')
    assert.equal(res.headers.get('Retry-After'), '1')
  } finally {
    await down.dispose()
  }
})

test('bad settings are a 500 that names no secret', async () => {
  const bad = startWorker(settings({ IMGMGR_KEY: 'not-hex-secret' }))
  try {
    const { res, error } = await getJSON(`/${pub.id}/w640`, {}, bad)
    assert.equal(res.status, 500)
    assert.equal(error.code, 'edge_misconfigured')
    assert.doesNotMatch(JSON.stringify(error), /not-hex-secret/)
  } finally {
    await bad.dispose()
  }
})
