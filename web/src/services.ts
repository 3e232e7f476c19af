// The app's long-lived services (API client and session), created once in
// main.ts and by tests with doubles. Stores reach them through services().

import { ApiClient, type FetchFn } from './api/client'
import { SessionManager, browserLock, type KeyValueStore } from './api/session'

export interface Services {
  api: ApiClient
  session: SessionManager
}

let current: Services | null = null

export function createServices(opts: { fetch?: FetchFn; storage: KeyValueStore; baseURL?: string }): Services {
  const api = new ApiClient({ ...(opts.fetch ? { fetch: opts.fetch } : {}), baseURL: opts.baseURL ?? '' })
  const session = new SessionManager({ api, storage: opts.storage, lock: browserLock })
  api.setTokens(session)
  return { api, session }
}

export function setServices(s: Services | null): void {
  current?.session.dispose()
  current = s
}

export function services(): Services {
  if (!current) throw new Error('services not set: call setServices first')
  return current
}
