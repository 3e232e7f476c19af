// SessionManager keeps the signed-in session: it stores the tokens, refreshes
// the access token before it expires and when a call gets a 401, and keeps
// several tabs from spending the same single-use refresh token (the server
// would treat that as theft and revoke the whole family, signing everyone
// out: exactly the surprise this avoids).

import type { TokenSource } from './client'
import { ApiError } from './errors'
import type { Session, User } from './types'

export interface StoredSession {
  access_token: string
  refresh_token: string
  expires_at: number // ms since epoch
  user: User
}

export interface KeyValueStore {
  getItem(key: string): string | null
  setItem(key: string, value: string): void
  removeItem(key: string): void
}

export interface AuthAPI {
  login(username: string, password: string): Promise<Session>
  refresh(refreshToken: string): Promise<Session>
  logout(refreshToken: string): Promise<void>
}

/** Lock runs fn while holding a named lock shared by every tab (navigator.locks in browsers). */
export type Lock = <T>(name: string, fn: () => Promise<T>) => Promise<T>

/** Why a session ended: signed out, ran out, or the password changed and signing in with the new one failed. */
export type EndReason = 'logout' | 'expired' | 'password'

export interface SessionDeps {
  api: AuthAPI
  storage: KeyValueStore
  now?: () => number
  lock?: Lock
  /** how long before expiry to refresh, ms (default 60 s, or a fifth of a short lifetime) */
  leadMs?: number
}

export const STORAGE_KEY = 'imgmgr.session'

export class SessionManager implements TokenSource {
  private current: StoredSession | null
  private inflight: Promise<string | null> | null = null
  private passwordChange: { answered: boolean; token: Promise<string | null> } | null = null
  private timer: ReturnType<typeof setTimeout> | undefined
  private readonly listeners = new Set<(s: StoredSession | null, reason?: EndReason) => void>()
  private readonly now: () => number
  private readonly lock: Lock

  constructor(private readonly deps: SessionDeps) {
    this.now = deps.now ?? Date.now
    this.lock = deps.lock ?? ((_name, fn) => fn())
    this.current = this.read()
    this.schedule()
  }

  get session(): StoredSession | null {
    return this.current
  }
  get user(): User | null {
    return this.current?.user ?? null
  }

  /** subscribe calls fn on every change; reason says why a session ended. Returns an unsubscribe. */
  subscribe(fn: (s: StoredSession | null, reason?: EndReason) => void): () => void {
    this.listeners.add(fn)
    return () => this.listeners.delete(fn)
  }

  accessToken(): string | null {
    return this.current?.access_token ?? null
  }

  async login(username: string, password: string): Promise<User> {
    const s = await this.deps.api.login(username, password)
    this.adopt(s)
    return s.user
  }

  /** logout revokes the refresh token on the server (best effort) and forgets the session. */
  async logout(): Promise<void> {
    const s = this.current
    this.end('logout')
    if (s) {
      try {
        await this.deps.api.logout(s.refresh_token)
      } catch {
        // The tokens are gone locally; an unreachable server cannot undo that.
      }
    }
  }

  /**
   * changePassword runs change (the request that sets a new password, sent
   * without the client's refresh on 401 — see ApiClient.changePassword —, after
   * which the server revokes every session of the user, this one included)
   * and signs in again with the new password, so the person carries on
   * without noticing. Until that sign-in is done, refreshes wait for it
   * instead of spending the revoked refresh token (which would end the
   * session). If change fails the session stays as it was (a 401 ends it);
   * if the new sign-in fails the session ends with reason 'password'.
   */
  async changePassword(change: () => Promise<unknown>, newPassword: string): Promise<User> {
    const user = this.current?.user
    if (!user) throw new ApiError(401, 'unauthenticated', 'not signed in')
    // change is sent without the refresh-and-replay on 401 (that refresh would wait
    // for this change): make sure its token is not about to run out instead.
    if ((this.current?.expires_at ?? 0) - this.now() < 30_000) await this.refresh()
    let settle!: (token: string | null) => void
    const pc = { answered: false, token: new Promise<string | null>((r) => (settle = r)) }
    this.passwordChange = pc
    try {
      try {
        await change()
      } catch (e) {
        settle(null)
        if (e instanceof ApiError && e.status === 401) this.end('expired')
        throw e
      }
      pc.answered = true
      try {
        const s = await this.deps.api.login(user.username, newPassword)
        this.adopt(s)
        settle(s.access_token)
        return s.user
      } catch (e) {
        settle(null)
        this.end('password')
        throw e
      }
    } finally {
      if (this.passwordChange === pc) this.passwordChange = null
    }
  }

  /**
   * refresh gets a new access token. Concurrent callers share one request.
   * Returns null when the session is over (it is then cleared); throws on a
   * network failure, leaving the session in place to try again.
   */
  refresh(): Promise<string | null> {
    // The password just changed: the old tokens are revoked, the new sign-in brings the next one.
    if (this.passwordChange?.answered) return this.passwordChange.token
    if (!this.inflight) {
      this.inflight = this.lock('imgmgr.refresh', () => this.refreshLocked()).finally(() => {
        this.inflight = null
      })
    }
    return this.inflight
  }

  /** storageChanged adopts what another tab wrote (call it from the window's storage event). */
  storageChanged(): void {
    const s = this.read()
    if (s?.refresh_token === this.current?.refresh_token) return
    if (s) this.set(s)
    else if (this.current && !this.passwordChange) this.end('logout', false) // another tab saw the revocation first
  }

  /** dispose stops the refresh timer. */
  dispose(): void {
    clearTimeout(this.timer)
    this.listeners.clear()
  }

  private async refreshLocked(): Promise<string | null> {
    const mine = this.current
    // Another tab may have rotated the token while we waited for the lock.
    const stored = this.read()
    if (stored && stored.refresh_token !== mine?.refresh_token && stored.expires_at > this.now()) {
      this.set(stored)
      return stored.access_token
    }
    const token = stored?.refresh_token ?? mine?.refresh_token
    if (!token) return null
    try {
      const s = await this.deps.api.refresh(token)
      this.adopt(s)
      return s.access_token
    } catch (e) {
      if (e instanceof ApiError && e.status >= 400 && e.status < 500 && e.status !== 429) {
        // Refused because the password changed under it: the new sign-in decides.
        const fresh = this.passwordChange ? await this.passwordChange.token : null
        if (fresh) return fresh
        // Replaced while this refresh was out (signed in again): carry on with that session.
        if (this.current && this.current.refresh_token !== token) return this.current.access_token
        this.end('expired')
        return null
      }
      throw e
    }
  }

  private adopt(s: Session): void {
    this.set({
      access_token: s.access_token,
      refresh_token: s.refresh_token,
      expires_at: this.now() + s.expires_in * 1000,
      user: s.user,
    })
  }

  private set(s: StoredSession): void {
    this.current = s
    this.deps.storage.setItem(STORAGE_KEY, JSON.stringify(s))
    this.schedule()
    this.emit(s)
  }

  private end(reason: EndReason, write = true): void {
    this.current = null
    clearTimeout(this.timer)
    if (write) this.deps.storage.removeItem(STORAGE_KEY)
    this.emit(null, reason)
  }

  private emit(s: StoredSession | null, reason?: EndReason): void {
    for (const fn of this.listeners) fn(s, reason)
  }

  private read(): StoredSession | null {
    const raw = this.deps.storage.getItem(STORAGE_KEY)
    if (!raw) return null
    try {
      const s = JSON.parse(raw) as StoredSession
      return s.access_token && s.refresh_token && s.user ? s : null
    } catch {
      return null
    }
  }

  /** schedule refreshes the access token shortly before it expires. */
  private schedule(): void {
    clearTimeout(this.timer)
    const s = this.current
    if (!s) return
    const life = s.expires_at - this.now()
    const lead = this.deps.leadMs ?? Math.min(60_000, Math.max(1000, life / 5))
    const wait = Math.max(0, life - lead)
    this.timer = setTimeout(() => {
      this.refresh().catch(() => {
        // Offline: the next call's 401 (or the next timer) tries again.
        this.timer = setTimeout(() => this.schedule(), 15_000)
      })
    }, wait)
  }
}

/** browserLock uses the Web Locks API when present so tabs take turns refreshing. */
export const browserLock: Lock = (name, fn) => {
  const locks = (globalThis.navigator as Navigator | undefined)?.locks
  return locks ? (locks.request(name, fn) as Promise<Awaited<ReturnType<typeof fn>>>) : fn()
}
