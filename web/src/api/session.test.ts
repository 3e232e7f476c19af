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
  password = 'pw'
  loginCalls = 0
  /** while set, login and refresh wait for it (to order events in a test) */
  gate: Promise<void> | null = null

  async login(_u: string, p: string): Promise<Session> {
    this.loginCalls++
    if (this.gate) await this.gate
    if (p !== this.password) throw new ApiError(401, 'invalid_credentials', 'bad password')
    return this.issue()
  }
  /** setPassword is what the server does on PATCH /users/{id}: new password, every refresh token revoked. */
  setPassword(p: string): void {
    this.password = p
    this.valid.clear()
  }
  async refresh(t: string): Promise<Session> {
    this.refreshCalls++
    if (this.gate) await this.gate
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
  describe('changing the password', () => {
    const NEW = 'a new password 1'
    /** gated returns a gate for FakeAuth and the function that opens it */
    const gated = (): [Promise<void>, () => void] => {
      let open!: () => void
      return [new Promise<void>((r) => (open = r)), () => open()]
    }

    it('signs in again with the new password, without ever showing a signed-out state', async () => {
      const auth = new FakeAuth()
      const storage = new MemoryStorage()
      const sm = make(auth, storage)
      await sm.login('ann', 'pw')
      const seen: (string | null)[] = []
      sm.subscribe((s) => seen.push(s?.access_token ?? null))
      const u = await sm.changePassword(async () => auth.setPassword(NEW), NEW)
      expect(u.username).toBe('ann')
      expect(sm.accessToken()).toBe('a2')
      expect(JSON.parse(storage.getItem(STORAGE_KEY)!).refresh_token).toBe('r2')
      expect(seen).toEqual(['a2'])
      expect(await sm.refresh()).toBe('a3') // the new refresh token works
      sm.dispose()
    })

    it('makes a refresh asked for before the new sign-in wait for it instead of spending the revoked token', async () => {
      const auth = new FakeAuth()
      const sm = make(auth)
      await sm.login('ann', 'pw')
      const ended: unknown[] = []
      sm.subscribe((s, why) => s === null && ended.push(why))
      const [gate, open] = gated()
      let refreshed: Promise<string | null> | undefined
      const changing = sm.changePassword(async () => {
        auth.setPassword(NEW)
        auth.gate = gate // the new sign-in is slow
        // A call that got a 401 right after the change asks for a fresh token.
        queueMicrotask(() => (refreshed = sm.refresh()))
      }, NEW)
      await vi.advanceTimersByTimeAsync(0)
      open()
      auth.gate = null
      await changing
      expect(await refreshed).toBe('a2') // its refresh was refused (r1 revoked); it waited for the sign-in
      expect(ended).toEqual([])
      expect(sm.accessToken()).toBe('a2')
      sm.dispose()
    })

    it('keeps the session when a refresh already under way is refused because of the change', async () => {
      const auth = new FakeAuth()
      const sm = make(auth)
      await sm.login('ann', 'pw')
      const [gate, open] = gated()
      auth.gate = gate
      const refreshing = sm.refresh() // sent with r1, answered after the change revoked it
      const changing = sm.changePassword(async () => auth.setPassword(NEW), NEW)
      auth.gate = null
      open()
      expect(await refreshing).toBe('a2')
      await changing
      expect(sm.user?.username).toBe('ann')
      expect(sm.accessToken()).toBe('a2')
      sm.dispose()
    })

    it('keeps the session as it was when the current password is wrong', async () => {
      const auth = new FakeAuth()
      const sm = make(auth)
      await sm.login('ann', 'pw')
      const wrong = new ApiError(403, 'invalid_credentials', 'the current password is wrong')
      await expect(sm.changePassword(() => Promise.reject(wrong), NEW)).rejects.toBe(wrong)
      expect(sm.accessToken()).toBe('a1')
      expect(auth.loginCalls).toBe(1)
      expect(await sm.refresh()).toBe('a2') // refreshing works as before
      sm.dispose()
    })

    it('ends the session, saying why, when the new sign-in fails', async () => {
      const auth = new FakeAuth()
      const storage = new MemoryStorage()
      const sm = make(auth, storage)
      await sm.login('ann', 'pw')
      const why: unknown[] = []
      sm.subscribe((s, reason) => s === null && why.push(reason))
      const err = await sm.changePassword(async () => auth.setPassword('something else'), NEW).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(ApiError)
      expect(sm.user).toBeNull()
      expect(storage.getItem(STORAGE_KEY)).toBeNull()
      expect(why).toEqual(['password'])
      sm.dispose()
    })

    it('does not follow another tab that dropped the revoked session in the meantime', async () => {
      const auth = new FakeAuth()
      const storage = new MemoryStorage()
      const sm = make(auth, storage)
      await sm.login('ann', 'pw')
      await sm.changePassword(async () => {
        auth.setPassword(NEW)
        storage.removeItem(STORAGE_KEY) // the other tab's refresh was refused
        sm.storageChanged()
      }, NEW)
      expect(sm.accessToken()).toBe('a2')
      expect(JSON.parse(storage.getItem(STORAGE_KEY)!).access_token).toBe('a2')
      sm.dispose()
    })
  })
})
