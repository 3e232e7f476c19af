import { describe, expect, it } from 'vitest'
import { ApiClient } from './client'
import { ApiError, NetworkError, humanError } from './errors'
import { FakeServer, apiError, json } from '../testing/fakefetch'
import type { Image } from './types'

const image = (id: string, extra: Partial<Image> = {}): Image => ({
  id,
  owner_id: 'u1',
  sha256: 'ab'.repeat(32),
  size: 1234,
  format: 'jpeg',
  width: 800,
  height: 600,
  frames: 1,
  alpha: false,
  orientation: 1,
  title: '',
  filename: id + '.jpg',
  visibility: 'private',
  tags: [],
  created_at: '2026-01-01T00:00:00Z',
  updated_at: '2026-01-01T00:00:00Z',
  ...extra,
})

function tokens(initial: string | null, next: string | null = null) {
  let current = initial
  let refreshes = 0
  return {
    accessToken: () => current,
    refresh: async () => {
      refreshes++
      current = next
      return next
    },
    get refreshes() {
      return refreshes
    },
  }
}

describe('ApiClient', () => {
  it('sends the bearer token and the filters, leaving out empty ones', async () => {
    const srv = new FakeServer().on('GET', '/api/v1/images', () =>
      json(200, { images: [image('a', { tags: null })], next_cursor: 'c2' }),
    )
    const api = new ApiClient({ fetch: srv.fetch, tokens: tokens('tok1') })
    const page = await api.listImages({ tag: 'cats', q: '', sort: '-size', format: undefined }, 'c1', 30)
    expect(page.next_cursor).toBe('c2')
    expect(page.images[0]?.tags).toEqual([]) // null from Go becomes []
    const call = srv.calls[0]!
    expect(call.headers.get('Authorization')).toBe('Bearer tok1')
    expect(Object.fromEntries(call.query)).toEqual({ tag: 'cats', sort: '-size', cursor: 'c1', limit: '30' })
  })

  it('refreshes once on 401 and replays the call with the new token', async () => {
    const srv = new FakeServer().on('GET', '/api/v1/images/x', (req) =>
      req.headers.get('Authorization') === 'Bearer new'
        ? json(200, image('x'))
        : apiError(401, 'unauthenticated', 'token expired'),
    )
    const ts = tokens('old', 'new')
    const api = new ApiClient({ fetch: srv.fetch, tokens: ts })
    const im = await api.getImage('x')
    expect(im.id).toBe('x')
    expect(ts.refreshes).toBe(1)
    expect(srv.calls.map((c) => c.headers.get('Authorization'))).toEqual(['Bearer old', 'Bearer new'])
  })

  it('gives up with the 401 when the session cannot be refreshed', async () => {
    const srv = new FakeServer().on('GET', '/api/v1/tags', () => apiError(401, 'unauthenticated', 'no'))
    const ts = tokens('old', null)
    const api = new ApiClient({ fetch: srv.fetch, tokens: ts })
    const err = await api.listTags().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ApiError)
    expect((err as ApiError).status).toBe(401)
    expect(srv.calls).toHaveLength(1)
    expect(ts.refreshes).toBe(1)
  })

  it('does not send tokens to the auth endpoints', async () => {
    const session = { access_token: 'a', refresh_token: 'r', expires_in: 900, user: { id: 'u', username: 'ann', role: 'user' } }
    const srv = new FakeServer().on('POST', '/api/v1/auth/login', () => json(200, session))
    const api = new ApiClient({ fetch: srv.fetch, tokens: tokens('stale') })
    expect(await api.login('ann', 'pw')).toEqual(session)
    expect(srv.calls[0]!.headers.get('Authorization')).toBeNull()
    expect(srv.calls[0]!.body).toEqual({ username: 'ann', password: 'pw' })
  })

  it('turns error bodies into ApiError with code, message and Retry-After', async () => {
    const srv = new FakeServer()
      .on('PATCH', '/api/v1/images/x', () => apiError(422, 'unprocessable', 'title too long'))
      .on('POST', '/api/v1/images/batch', () => apiError(429, 'rate_limited', 'slow down', { 'Retry-After': '7' }))
      .on('DELETE', '/api/v1/images/x', () => new Response('<html>bad gateway</html>', { status: 502 }))
    const api = new ApiClient({ fetch: srv.fetch, tokens: tokens('t') })
    const e1 = (await api.updateImage('x', { title: 'x'.repeat(999) }).catch((e: unknown) => e)) as ApiError
    expect([e1.status, e1.code, e1.serverMessage]).toEqual([422, 'unprocessable', 'title too long'])
    const e2 = (await api.batch({ action: 'delete', ids: ['x'] }).catch((e: unknown) => e)) as ApiError
    expect([e2.code, e2.retryAfter]).toEqual(['rate_limited', 7])
    expect(humanError(e2)).toBe('Too many requests. Try again in 7 s.')
    const e3 = (await api.deleteImage('x').catch((e: unknown) => e)) as ApiError
    expect([e3.status, e3.code]).toEqual([502, 'internal'])
  })

  it('reports a failed connection as NetworkError', async () => {
    const api = new ApiClient({
      fetch: () => Promise.reject(new TypeError('Failed to fetch')),
      tokens: tokens('t'),
    })
    const err = await api.stats().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(NetworkError)
    expect(humanError(err)).toMatch(/Cannot reach the server/)
  })

  it('asks for signed URLs in order and passes expires_in only when set', async () => {
    const srv = new FakeServer().on('POST', '/api/v1/images/i%2F1/urls', (req) =>
      json(200, { urls: (req.body as { variants: string[] }).variants.map((v) => '/img/sig/' + v + '/i1') }),
    )
    const api = new ApiClient({ fetch: srv.fetch, tokens: tokens('t') })
    const urls = await api.signedURLs('i/1', ['rs:fit:800:0/q:80', 'pr:thumb'])
    expect(urls).toEqual(['/img/sig/rs:fit:800:0/q:80/i1', '/img/sig/pr:thumb/i1'])
    expect(srv.calls[0]!.body).toEqual({ variants: ['rs:fit:800:0/q:80', 'pr:thumb'] })
    await api.signedURLs('i/1', ['w:10'], 60)
    expect(srv.calls[1]!.body).toEqual({ variants: ['w:10'], expires_in: 60 })
  })

  it('signs a page of images in one request and turns per-image errors into ApiErrors', async () => {
    const srv = new FakeServer().on('POST', '/api/v1/images/urls', (req) => {
      const b = req.body as { ids: string[]; variants: string[] }
      return json(200, {
        urls: { a: b.variants.map((v) => '/img/s/' + v + '/a') },
        errors: { gone: { code: 'not_found', message: 'image not found' } },
      })
    })
    const api = new ApiClient({ fetch: srv.fetch, tokens: tokens('t') })
    const got = await api.signedURLsMany(['a', 'gone'], ['w:10', 'w:20'])
    expect(srv.calls[0]!.body).toEqual({ ids: ['a', 'gone'], variants: ['w:10', 'w:20'] })
    expect(got.urls).toEqual({ a: ['/img/s/w:10/a', '/img/s/w:20/a'] })
    expect(Object.keys(got.errors)).toEqual(['gone'])
    expect([got.errors.gone!.status, got.errors.gone!.code]).toEqual([404, 'not_found'])
    expect(humanError(got.errors.gone)).toBe('It is not there any more. It may have been deleted.')
    await api.signedURLsMany(['a'], ['w:10'], 120)
    expect(srv.calls[1]!.body).toEqual({ ids: ['a'], variants: ['w:10'], expires_in: 120 })
  })

  it('reads a batch signing answer with null maps as empty', async () => {
    const srv = new FakeServer().on('POST', '/api/v1/images/urls', () => json(200, { urls: null, errors: null }))
    const api = new ApiClient({ fetch: srv.fetch, tokens: tokens('t') })
    expect(await api.signedURLsMany(['a'], ['w:10'])).toEqual({ urls: {}, errors: {} })
  })

  it('accepts lists as bare arrays or wrapped objects', async () => {
    const srv = new FakeServer()
      .on('GET', '/api/v1/tags', () => json(200, [{ tag: 'a', count: 2 }]))
      .on('GET', '/api/v1/albums', () => json(200, { albums: [{ id: 'al', name: 'Trips' }] }))
      .on('GET', '/api/v1/users', () => json(200, null))
    const api = new ApiClient({ fetch: srv.fetch, tokens: tokens('t') })
    expect(await api.listTags()).toEqual([{ tag: 'a', count: 2 }])
    expect(await api.listAlbums()).toEqual([{ id: 'al', name: 'Trips' }])
    expect(await api.listUsers()).toEqual([])
  })

  it('sends multipart uploads with every file as a file part', async () => {
    let form: FormData | undefined
    const srv = new FakeServer().on('POST', '/api/v1/images', (req) => {
      form = req.body as FormData
      return json(201, { results: [{ filename: 'a.png', status: 201, image: image('a') }] })
    })
    const api = new ApiClient({ fetch: srv.fetch, tokens: tokens('t') })
    const files = [new File(['x'], 'a.png', { type: 'image/png' }), new File(['y'], 'b.png', { type: 'image/png' })]
    const results = await api.uploadMultipart(files, { visibility: 'public' })
    expect(results[0]?.image?.id).toBe('a')
    expect(form?.getAll('file').map((f) => (f as File).name)).toEqual(['a.png', 'b.png'])
    expect(form?.get('visibility')).toBe('public')
    expect(srv.calls[0]!.headers.get('Content-Type')).toBeNull() // the browser sets the boundary
  })
})

describe('humanError', () => {
  it.each([
    [new ApiError(415, 'unsupported_media_type', 'sniffed text/plain'), 'This is not an image type the server accepts.'],
    [new ApiError(422, 'malware_detected', 'Eicar-Test-Signature'), 'The virus scanner flagged this file, so it was not stored.'],
    [new ApiError(400, 'invalid', 'limit must be 1..200'), 'Limit must be 1..200.'],
    [new ApiError(418, 'teapot_mode', 'short and stout'), 'Short and stout.'],
    [
      new ApiError(500, 'internal', 'internal error'),
      'Something went wrong on the server. Try again; if it keeps happening, tell an administrator.',
    ],
    [new ApiError(404, 'http_404', ''), 'It is not there any more. It may have been deleted.'],
    [new ApiError(404, 'no_route', 'no such API route'), 'This server does not offer that yet. It may need updating.'],
    ['what', 'Something went wrong. Try again.'],
  ])('%s', (err, want) => {
    expect(humanError(err)).toBe(want)
  })
})
