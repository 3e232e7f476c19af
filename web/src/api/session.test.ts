import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { ApiError, NetworkError } from './errors'
import { STORAGE_KEY, SessionManager, type AuthAPI, type StoredSession } from './session'
import { MemoryStorage } from '../testing/fakefetch'
import type { Session } from './types'

const user = { id: 'u1', username: 'ann', role: 'user' as const }

/** A server-side refresh-token family: each token works once, like the real one. */
class FakeAuth implements AuthAPI {
  private n = 0
  private readonly valid = new Set<string>()
  refreshCalls = 0
  revoked: string[] = []
  failNext: Error | null = null

  private issue(): Session {
    this.n++
    this.valid.add('r' + this.n)
    return { access_token: 'a' + this.n, refresh_token: 'r' + this.n, expires_in: 900, user }
  }
  async login(_u: string, p: string): Promise<Session> {
    if (p !== 'pw') throw new ApiError(401, 'invalid_credentials', 'bad password')
    return this.issue()
  }
  async refresh(t: string): Promise<Session> {
    this.refreshCalls++
    if (this.failNext) {
      const e = this.failNext
      this.failNext = null
      throw e
    }
    if (!this.valid.delete(t)) throw new ApiError(401, 'unauthenticated', 'refresh token reused')
    return this.issue()
  }
  async logout(t: string): Promise<void> {
    this.revoked.push(t)
  }
}

describe('SessionManager', () => {
  let now = 1_000_000
  beforeEach(() => {
    vi.useFakeTimers()
    now = 1_000_000
  })
  afterEach(() => vi.useRealTimers())

  const make = (auth: FakeAuth, storage = new MemoryStorage()) => new SessionManager({ api: auth, storage, now: () => now })

  it('logs in, persists the session and restores it in a new manager', async () => {
    const auth = new FakeAuth()
    const storage = new MemoryStorage()
    const sm = make(auth, storage)
    await sm.login('ann', 'pw')
    expect(sm.accessToken()).toBe('a1')
    const again = make(auth, storage)
    expect(again.user?.username).toBe('ann')
    expect(again.accessToken()).toBe('a1')
    sm.dispose()
    again.dispose()
  })

  it('shares one refresh between concurrent callers', async () => {
    const auth = new FakeAuth()
    const sm = make(auth)
    await sm.login('ann', 'pw')
    const got = await Promise.all([sm.refresh(), sm.refresh(), sm.refresh()])
    expect(got).toEqual(['a2', 'a2', 'a2'])
    expect(auth.refreshCalls).toBe(1)
    sm.dispose()
  })

  it('refreshes on its own shortly before the access token expires', async () => {
    const auth = new FakeAuth()
    const sm = make(auth)
    await sm.login('ann', 'pw')
    now += 800_000
    await vi.advanceTimersByTimeAsync(839_000) // 900 s life, 60 s lead
    expect(auth.refreshCalls).toBe(0)
    await vi.advanceTimersByTimeAsync(1_000)
    expect(auth.refreshCalls).toBe(1)
    expect(sm.accessToken()).toBe('a2')
    sm.dispose()
  })

  it('adopts the token another tab already rotated instead of spending a used one', async () => {
    const auth = new FakeAuth()
    const storage = new MemoryStorage()
    const tab1 = make(auth, storage)
    await tab1.login('ann', 'pw')
    const tab2 = make(auth, storage)
    expect(await tab1.refresh()).toBe('a2') // tab1 spends r1
    expect(await tab2.refresh()).toBe('a2') // tab2 still holds r1 in memory but reads r2 from storage
    expect(auth.refreshCalls).toBe(1)
    expect(tab2.session?.refresh_token).toBe('r2')
    tab1.dispose()
    tab2.dispose()
  })

  it('ends the session when the server refuses the refresh token', async () => {
    const auth = new FakeAuth()
    const sm = make(auth)
    await sm.login('ann', 'pw')
    const ends: (string | undefined)[] = []
    sm.subscribe((s, reason) => s === null && ends.push(reason))
    auth.failNext = new ApiError(401, 'unauthenticated', 'revoked')
    expect(await sm.refresh()).toBeNull()
    expect(sm.user).toBeNull()
    expect(ends).toEqual(['expired'])
    sm.dispose()
  })

  it('keeps the session through a network failure', async () => {
    const auth = new FakeAuth()
    const sm = make(auth)
    await sm.login('ann', 'pw')
    auth.failNext = new NetworkError(new TypeError('offline'))
    await expect(sm.refresh()).rejects.toBeInstanceOf(NetworkError)
    expect(sm.accessToken()).toBe('a1')
    expect(await sm.refresh()).toBe('a2')
    sm.dispose()
  })

  it('logs out: revokes on the server and clears storage, even when the server is down', async () => {
    const auth = new FakeAuth()
    const storage = new MemoryStorage()
    const sm = make(auth, storage)
    await sm.login('ann', 'pw')
    auth.logout = () => Promise.reject(new NetworkError('down'))
    await sm.logout()
    expect(storage.getItem(STORAGE_KEY)).toBeNull()
    expect(sm.accessToken()).toBeNull()
    sm.dispose()
  })

  it('follows a logout and a login done in another tab', async () => {
    const auth = new FakeAuth()
    const storage = new MemoryStorage()
    const sm = make(auth, storage)
    await sm.login('ann', 'pw')
    storage.removeItem(STORAGE_KEY)
    sm.storageChanged()
    expect(sm.user).toBeNull()
    const other: StoredSession = { access_token: 'x', refresh_token: 'y', expires_at: now + 1e6, user }
    storage.setItem(STORAGE_KEY, JSON.stringify(other))
    sm.storageChanged()
    expect(sm.accessToken()).toBe('x')
    sm.dispose()
  })

  it('ignores a damaged stored session', () => {
    const storage = new MemoryStorage()
    storage.setItem(STORAGE_KEY, '{not json')
    const sm = make(new FakeAuth(), storage)
    expect(sm.user).toBeNull()
    sm.dispose()
  })
})
