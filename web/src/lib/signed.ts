// Signed delivery URLs, asked for once per image and variant list and kept
// until shortly before they expire (the server may add exp:<unix seconds>).
// A gallery page signs all its thumbnails in one request (signMany); a single
// image (detail view, variant builder, a card whose entry lapsed) asks on its
// own, at most a few requests at once.

import { ApiError } from '../api/errors'
import { services } from '../services'

interface Entry {
  urls: Promise<string[]>
  expires: number // ms since epoch; Infinity when the URLs do not expire
}

const cache = new Map<string, Entry>()
const MAX_IN_FLIGHT = 6
const RENEW_BEFORE_MS = 5 * 60_000
let inFlight = 0
const waiting: (() => void)[] = []

async function slot<T>(fn: () => Promise<T>): Promise<T> {
  if (inFlight >= MAX_IN_FLIGHT) await new Promise<void>((r) => waiting.push(r))
  inFlight++
  try {
    return await fn()
  } finally {
    inFlight--
    waiting.shift()?.()
  }
}

/** expiryOf is the earliest exp: option of the URLs, in ms; Infinity when none has one. */
export function expiryOf(urls: string[]): number {
  let min = Infinity
  for (const u of urls) {
    const m = /\/exp:(\d+)(?=\/)/.exec(u)
    if (m) min = Math.min(min, Number(m[1]) * 1000)
  }
  return min
}

/** MAX_URLS is how many URLs the server signs in one request. */
export const MAX_URLS = 1000

function fresh(key: string, now: number): boolean {
  const hit = cache.get(key)
  return hit !== undefined && hit.expires - RENEW_BEFORE_MS > now
}

function put(key: string, urls: Promise<string[]>): Promise<string[]> {
  const entry: Entry = { urls, expires: Infinity }
  urls.then(
    (u) => (entry.expires = expiryOf(u)),
    () => cache.get(key) === entry && cache.delete(key), // a failure may be retried later
  )
  cache.set(key, entry)
  return urls
}

/**
 * signMany fills the cache for the ids that have no fresh entry, with one
 * request per MAX_URLS URLs, and resolves when the answers are in. Callers
 * then read each image through signedURLs, which waits on the same request.
 */
export async function signMany(ids: string[], variants: string[], now = Date.now()): Promise<void> {
  const suffix = '|' + variants.join(',')
  const todo = [...new Set(ids)].filter((id) => !fresh(id + suffix, now))
  const per = Math.max(1, Math.floor(MAX_URLS / Math.max(1, variants.length)))
  const sent: Promise<unknown>[] = []
  for (let i = 0; i < todo.length; i += per) {
    const chunk = todo.slice(i, i + per)
    const answer = services().api.signedURLsMany(chunk, variants)
    for (const id of chunk) {
      const urls = answer.then(
        (a) => {
          const got = a.urls[id]
          if (got?.length === variants.length) return got
          throw a.errors[id] ?? new Error('the server signed no URLs for ' + id)
        },
        (e: unknown) => {
          // A server from before the batch route: one request per image, as before.
          if (e instanceof ApiError && (e.code === 'no_route' || e.status === 405))
            return slot(() => services().api.signedURLs(id, variants))
          throw e
        },
      )
      put(id + suffix, urls)
    }
    sent.push(answer.catch(() => {}))
  }
  await Promise.all(sent)
}

/** signedURLs returns the delivery URLs of id's variants, from cache while they stay valid. */
export function signedURLs(id: string, variants: string[], now = Date.now()): Promise<string[]> {
  const key = id + '|' + variants.join(',')
  if (fresh(key, now)) return cache.get(key)!.urls
  return put(
    key,
    slot(() => services().api.signedURLs(id, variants)),
  )
}

/** forgetSigned drops cached URLs of an image (after it changed or was deleted). */
export function forgetSigned(id: string): void {
  for (const k of cache.keys()) if (k.startsWith(id + '|')) cache.delete(k)
}

/** forgetAllSigned drops every cached URL (when the session ends). */
export function forgetAllSigned(): void {
  cache.clear()
}
