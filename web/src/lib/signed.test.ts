import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ApiClient } from '../api/client'
import { ApiError } from '../api/errors'
import { SessionManager } from '../api/session'
import { setServices } from '../services'
import { FakeServer, MemoryStorage, apiError, json } from '../testing/fakefetch'
import { MAX_URLS, expiryOf, forgetAllSigned, signMany, signedURLs } from './signed'

interface ManyBody {
  ids: string[]
  variants: string[]
}

describe('signed URL cache', () => {
  let srv: FakeServer
  let exp = 2_000_000_000 // unix seconds
  const sign = (id: string, variants: string[]) => variants.map((v) => `/img/sig/${v}/exp:${exp}/${id}`)
  beforeEach(() => {
    exp = 2_000_000_000
    srv = new FakeServer()
      .on('POST', '/api/v1/images/a/urls', (r) => json(200, { urls: sign('a', (r.body as ManyBody).variants) }))
      .on('POST', '/api/v1/images/urls', (r) => {
        const b = r.body as ManyBody
        const urls: Record<string, string[]> = {}
        const errors: Record<string, { code: string; message: string }> = {}
        for (const id of b.ids) {
          if (id.startsWith('gone')) errors[id] = { code: 'not_found', message: 'image not found' }
          else urls[id] = sign(id, b.variants)
        }
        return json(200, { urls, errors })
      })
    const api = new ApiClient({ fetch: srv.fetch })
    setServices({ api, session: new SessionManager({ api, storage: new MemoryStorage() }) })
    forgetAllSigned()
  })
  afterEach(() => setServices(null))

  const manyCalls = () => srv.calls.filter((c) => c.path === '/api/v1/images/urls')
  const ids = (n: number, prefix = 'i') => Array.from({ length: n }, (_, i) => prefix + i)

  it('reads the earliest expiry', () => {
    expect(expiryOf(['/img/s/w:10/exp:20/a', '/img/s/exp:10/w:5/a'])).toBe(10_000)
    expect(expiryOf(['/img/s/w:10/a'])).toBe(Infinity)
  })

  it('asks once while the URLs stay valid, and again shortly before they expire', async () => {
    const now = exp * 1000 - 3_600_000
    const first = await signedURLs('a', ['w:10'], now)
    expect(await signedURLs('a', ['w:10'], now + 60_000)).toBe(first)
    expect(srv.calls).toHaveLength(1)
    const soon = exp * 1000 - 4 * 60_000 // 4 minutes before expiry: renew
    exp += 3600
    const renewed = await signedURLs('a', ['w:10'], soon)
    expect(renewed).not.toEqual(first)
    expect(srv.calls).toHaveLength(2)
  })

  it('signs a page of 60 images in one request, which every card then reads', async () => {
    const now = exp * 1000 - 3_600_000
    const page = ids(60)
    const waiting = signMany(page, ['w:10', 'w:20'], now)
    // Cards that ask while the request is out wait for it instead of asking on their own.
    const early = signedURLs('i7', ['w:10', 'w:20'], now)
    await waiting
    expect(await early).toEqual(sign('i7', ['w:10', 'w:20']))
    for (const id of page) expect(await signedURLs(id, ['w:10', 'w:20'], now)).toEqual(sign(id, ['w:10', 'w:20']))
    expect(srv.calls).toHaveLength(1)
    expect(manyCalls()[0]!.body).toEqual({ ids: page, variants: ['w:10', 'w:20'] })
  })

  it('signs only the images without a fresh entry: the next page, or the ones about to expire', async () => {
    const now = exp * 1000 - 3_600_000
    await signMany(ids(60), ['w:10'], now)
    await signMany([...ids(60), ...ids(60, 'j')], ['w:10'], now) // the second page arrived
    expect(manyCalls().map((c) => (c.body as ManyBody).ids.length)).toEqual([60, 60])
    expect((manyCalls()[1]!.body as ManyBody).ids[0]).toBe('j0')
    // Coming back to the gallery shortly before the first signatures run out: one request renews all.
    exp += 3600
    await signMany([...ids(60), ...ids(60, 'j')], ['w:10'], exp * 1000 - 3600_000 - 4 * 60_000)
    expect(manyCalls().map((c) => (c.body as ManyBody).ids.length)).toEqual([60, 60, 120])
    expect(await signedURLs('i0', ['w:10'], exp * 1000 - 3600_000)).toEqual(sign('i0', ['w:10']))
    expect(srv.calls).toHaveLength(3)
  })

  it('keeps each request within the server limit of URLs', async () => {
    const variants = ['w:1', 'w:2', 'w:3']
    await signMany(ids(400), variants)
    const sizes = manyCalls().map((c) => (c.body as ManyBody).ids.length * variants.length)
    expect(sizes.reduce((a, b) => a + b)).toBe(1200)
    expect(Math.max(...sizes)).toBeLessThanOrEqual(MAX_URLS)
    expect(sizes).toHaveLength(2)
  })

  it('fails only the image the server refused, and asks for it again next time', async () => {
    await signMany(['a', 'gone1'], ['w:10'])
    expect(await signedURLs('a', ['w:10'])).toEqual(sign('a', ['w:10']))
    const err = await signedURLs('gone1', ['w:10']).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ApiError)
    expect((err as ApiError).code).toBe('not_found')
    await signMany(['a', 'gone1'], ['w:10'])
    expect((manyCalls()[1]!.body as ManyBody).ids).toEqual(['gone1'])
  })

  it('falls back to one request per image on a server without the batch route', async () => {
    srv.on('POST', '/api/v1/images/urls', () => apiError(405, 'method_not_allowed', 'method not allowed'))
    await signMany(['a'], ['w:10'])
    expect(await signedURLs('a', ['w:10'])).toEqual(sign('a', ['w:10']))
    expect(srv.calls.map((c) => c.path)).toEqual(['/api/v1/images/urls', '/api/v1/images/a/urls'])
  })

  it('lets a card retry on its own after the whole batch failed', async () => {
    srv.on('POST', '/api/v1/images/urls', () => apiError(503, 'unavailable', 'busy'))
    await signMany(['a'], ['w:10'])
    await expect(signedURLs('a', ['w:10'])).resolves.toEqual(sign('a', ['w:10']))
    expect(srv.calls.map((c) => c.path)).toEqual(['/api/v1/images/urls', '/api/v1/images/a/urls'])
  })
})
