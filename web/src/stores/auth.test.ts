import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ApiClient } from '../api/client'
import { SessionManager } from '../api/session'
import type { Session } from '../api/types'
import { passwordChangeError, passwordProblem } from '../lib/password'
import { setServices } from '../services'
import { FakeServer, MemoryStorage, apiError, json } from '../testing/fakefetch'
import { useAuth } from './auth'

const user = { id: 'u1', username: 'ann', role: 'user' as const }

/** An account behind the fake API that behaves like the server on a change of one's own password. */
function account() {
  let password = 'old password 1'
  let n = 0
  const live = new Set<string>() // access tokens the server still takes
  const issue = (): Session => {
    n++
    live.add('a' + n)
    return { access_token: 'a' + n, refresh_token: 'r' + n, expires_in: 900, user }
  }
  const srv = new FakeServer()
    .on('POST', '/api/v1/auth/login', (r) => {
      const b = r.body as { username: string; password: string }
      return b.password === password ? json(200, issue()) : apiError(401, 'invalid_credentials', 'wrong')
    })
    .on('PATCH', '/api/v1/users/u1', (r) => {
      if (!live.has(r.headers.get('Authorization')?.slice(7) ?? '')) return apiError(401, 'unauthenticated', 'no')
      const b = r.body as { password: string; current_password: string }
      if (b.current_password !== password) return apiError(403, 'invalid_credentials', 'the current password is wrong')
      if (b.password.length < 10) return apiError(400, 'invalid_password', 'password must be 10 to 256 characters')
      password = b.password
      live.clear() // every session of the account ends
      return json(200, user)
    })
  return { srv, live: () => live }
}

describe('changing one’s own password', () => {
  let acc: ReturnType<typeof account>
  let session: SessionManager
  beforeEach(async () => {
    acc = account()
    const api = new ApiClient({ fetch: acc.srv.fetch })
    session = new SessionManager({ api, storage: new MemoryStorage() })
    api.setTokens(session)
    setServices({ api, session })
    setActivePinia(createPinia())
    await useAuth().login('ann', 'old password 1')
  })
  afterEach(() => {
    session.dispose()
    setServices(null)
  })

  it('sends the current and the new password, then signs in with the new one and stays signed in', async () => {
    const auth = useAuth()
    await auth.changePassword('old password 1', 'new password 22')
    const calls = acc.srv.calls.map((c) => c.method + ' ' + c.path)
    expect(calls).toEqual(['POST /api/v1/auth/login', 'PATCH /api/v1/users/u1', 'POST /api/v1/auth/login'])
    expect(acc.srv.calls[1]!.body).toEqual({ password: 'new password 22', current_password: 'old password 1' })
    expect(acc.srv.calls[2]!.body).toEqual({ username: 'ann', password: 'new password 22' })
    expect(auth.signedIn).toBe(true)
    expect(auth.endedReason).toBeNull()
    expect(acc.live().has(session.accessToken()!)).toBe(true) // the token in use is one the server takes
  })

  it('says so in words when the current password is wrong, and keeps the session', async () => {
    const auth = useAuth()
    const err = await auth.changePassword('not it', 'new password 22').catch((e: unknown) => e)
    expect(passwordChangeError(err)).toBe('The current password is not right.')
    expect(auth.signedIn).toBe(true)
    expect(session.accessToken()).toBe('a1')
  })

  it('shows the server’s reason for refusing the new password', async () => {
    const err = await useAuth()
      .changePassword('old password 1', 'short')
      .catch((e: unknown) => e)
    expect(passwordChangeError(err)).toBe('Password must be 10 to 256 characters.')
    expect(useAuth().signedIn).toBe(true)
  })
})

describe('passwordProblem', () => {
  it.each([
    ['', 'new password 22', 'new password 22', 'Enter your current password.'],
    ['old', 'short', 'short', 'The new password needs at least 10 characters.'],
    ['old', 'x'.repeat(257), 'x'.repeat(257), 'The new password can have at most 256 characters.'],
    ['same password', 'same password', 'same password', 'The new password is the same as the current one.'],
    ['old', 'new password 22', 'new password 23', 'The two new passwords do not match.'],
    ['old', 'new password 22', 'new password 22', ''],
  ])('case %#', (current, next, repeat, want) => {
    expect(passwordProblem(current, next, repeat)).toBe(want)
  })
})
