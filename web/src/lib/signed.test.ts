import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ApiClient } from '../api/client'
import { SessionManager } from '../api/session'
import { setServices } from '../services'
import { FakeServer, MemoryStorage, json } from '../testing/fakefetch'
import { expiryOf, forgetAllSigned, signedURLs } from './signed'

describe('signed URL cache', () => {
  let srv: FakeServer
  let exp = 2_000_000_000 // unix seconds
  beforeEach(() => {
    srv = new FakeServer().on('POST', '/api/v1/images/a/urls', (r) =>
      json(200, { urls: (r.body as { variants: string[] }).variants.map((v) => `/img/sig/${v}/exp:${exp}/a`) }),
    )
    const api = new ApiClient({ fetch: srv.fetch })
    setServices({ api, session: new SessionManager({ api, storage: new MemoryStorage() }) })
    forgetAllSigned()
  })
  afterEach(() => setServices(null))

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
})
