// imgmgr edge worker: serves friendly image URLs (see route.js) from the
// Cloudflare cache, filling it from imgmgr with URLs it signs itself.
//
// Contracts:
//   - Only public images leave through the edge. The worker never signs an
//     expiring URL, and imgmgr refuses a private image's URL without one
//     (403 expiry_required); the worker answers that as 404, as imgmgr does
//     for unsigned preset URLs, so the edge does not even confirm that a
//     private id exists.
//   - The cache key is the normalised friendly URL plus the format asked
//     for (https://host/ID/w800-fit.webp) or, without an extension, the
//     class of the client's Accept (https://host/ID/w800-fit~avif+webp):
//     never the raw Accept header, so every spelling of a variant shares
//     one entry per format or class. Without an extension imgmgr
//     negotiates for the class, so animations stay animated and alpha
//     stays (PNG) as imgmgr alone would answer. The answer to a negotiated
//     URL carries "Vary: Accept" for caches after the edge.
//   - Only 200 image answers are cached; every error is JSON in imgmgr's
//     shape, {"error":{"code","message"}}, with Cache-Control: no-store.
//     imgmgr's own 4xx and 503 answers (a bad signature's 403 included)
//     pass through with their status, body and Retry-After.

import { readConfig } from './config.js'
import { acceptClass } from './negotiate.js'
import { originPath, parseFriendly } from './route.js'

const contentTypes = { avif: 'image/avif', webp: 'image/webp', jpeg: 'image/jpeg', png: 'image/png', gif: 'image/gif', jxl: 'image/jxl' }

// One parsed config per bindings object: isolates are reused across
// requests, and importing the HMAC key once saves work on each of them.
const configs = new WeakMap()

function config (env) {
  let c = configs.get(env)
  if (!c) {
    try {
      c = { cfg: readConfig(env) }
    } catch (e) {
      c = { err: e.message }
    }
    configs.set(env, c)
  }
  return c
}

function jsonError (status, code, message, headers = {}) {
  return new Response(JSON.stringify({ error: { code, message } }) + '\n', {
    status,
    headers: {
      'Content-Type': 'application/json; charset=utf-8',
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
      ...headers
    }
  })
}

export default {
  async fetch (request, env, ctx) {
    const { cfg, err } = config(env)
    if (!cfg) {
      console.error('imgmgr edge: bad settings: ' + err)
      return jsonError(500, 'edge_misconfigured', 'the edge worker is not configured correctly')
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      return jsonError(405, 'method_not_allowed', 'use GET or HEAD', { Allow: 'GET, HEAD' })
    }
    const url = new URL(request.url)
    const { route, error } = parseFriendly(url.pathname, cfg)
    if (error) return jsonError(error.status, error.code, error.message)
    const negotiated = route.format === ''
    const cls = negotiated ? acceptClass(request.headers.get('Accept'), cfg.order) : null
    const cacheKey = new Request(`${url.origin}/${route.id}/${route.spec}${negotiated ? '~' + cls.key : '.' + route.format}`)
    const cache = caches.default
    // A cache that fails (it is unavailable behind Cloudflare Access) costs
    // hits, never answers: the origin still serves.
    let res = await cache.match(cacheKey).catch((e) => console.error('imgmgr edge: cache match: ' + e.message))
    let state = 'HIT'
    if (!res) {
      state = 'MISS'
      const fetched = await fromOrigin(cfg, route, route.format, negotiated ? cls.header : contentTypes[route.format], request)
      if (!fetched.ok) return fetched.response
      res = fetched.response
      ctx.waitUntil(cache.put(cacheKey, res.clone()).catch((e) => console.error('imgmgr edge: cache put: ' + e.message)))
    }
    return toClient(request, res, cfg, { negotiated, state })
  }
}

// fromOrigin fetches the signed variant. It returns { ok: true, response }
// with the response as the cache stores it, or { ok: false, response } with
// the error to send.
async function fromOrigin (cfg, route, format, accept, request) {
  const path = originPath(route, format)
  const signed = await cfg.signer.sign(cfg.prefix, path)
  const headers = { Accept: accept }
  // imgmgr limits renders per client IP; with Cloudflare's addresses in its
  // server.trusted_proxies this names the real client, not the edge.
  const client = request.headers.get('CF-Connecting-IP')
  if (client) headers['X-Forwarded-For'] = client
  let res
  try {
    res = await fetch(cfg.origin + signed, { headers, redirect: 'manual' })
  } catch (e) {
    console.error(`imgmgr edge: origin fetch failed: ${e.message}`)
    return { ok: false, response: jsonError(502, 'origin_unreachable', 'the image origin cannot be reached', { 'Retry-After': '1' }) }
  }
  if (res.status === 200 && (res.headers.get('Content-Type') || '').startsWith('image/')) {
    return { ok: true, response: stored(res, route, cfg) }
  }
  return { ok: false, response: await originError(res) }
}

// stored keeps what a cached copy needs: the bytes, their type and ETag, an
// edge lifetime, and cache tags (img-{id} and imgmgr, as imgmgr tags its own
// variant answers) so that a purge by tag reaches the edge copies too.
function stored (res, route, cfg) {
  const h = new Headers()
  h.set('Content-Type', res.headers.get('Content-Type'))
  const etag = res.headers.get('ETag')
  if (etag) h.set('ETag', etag)
  const length = res.headers.get('Content-Length')
  if (length) h.set('Content-Length', length)
  h.set('Cache-Control', `public, max-age=${cfg.edgeTTL}`)
  h.set('Cache-Tag', `img-${route.id},imgmgr`)
  return new Response(res.body, { status: 200, headers: h })
}

// originError turns an origin refusal into the edge's answer.
async function originError (res) {
  const text = await res.text()
  let body = null
  try {
    body = JSON.parse(text)
  } catch {}
  const code = body?.error?.code
  if (res.status === 403 && code === 'expiry_required') {
    return jsonError(404, 'not_found', 'image not found')
  }
  if ((res.status >= 400 && res.status < 500) || res.status === 503) {
    const extra = {}
    const retry = res.headers.get('Retry-After')
    if (retry) extra['Retry-After'] = retry
    if (typeof code === 'string') return jsonError(res.status, code, String(body.error.message || ''), extra)
    return jsonError(res.status, 'origin_error', `the image origin answered ${res.status}`, extra)
  }
  console.error(`imgmgr edge: origin answered ${res.status}`)
  return jsonError(502, 'origin_error', 'the image origin failed', { 'Retry-After': '1' })
}

// toClient is the cached response as the client sees it: the browser's
// own lifetime, no cache tags, Vary when the format came from Accept, and
// 304 for a matching If-None-Match.
function toClient (request, res, cfg, { negotiated, state }) {
  const h = new Headers(res.headers)
  h.delete('Cache-Tag')
  h.set('Cache-Control', `public, max-age=${cfg.browserTTL}`)
  h.set('X-Content-Type-Options', 'nosniff')
  h.set('X-Edge-Cache', state)
  if (negotiated) h.set('Vary', 'Accept')
  else h.delete('Vary')
  const etag = h.get('ETag')
  if (etag && etagMatch(request.headers.get('If-None-Match'), etag)) {
    h.delete('Content-Length')
    h.delete('Content-Type')
    return new Response(null, { status: 304, headers: h })
  }
  return new Response(request.method === 'HEAD' ? null : res.body, { status: 200, headers: h })
}

function etagMatch (header, etag) {
  if (!header) return false
  const want = etag.replace(/^W\//, '')
  return header.split(',').some((t) => {
    t = t.trim().replace(/^W\//, '')
    return t === '*' || t === want
  })
}
