// Signed delivery URLs, asked for once per image and variant list and kept
// until shortly before they expire (the server may add exp:<unix seconds>).
// At most a few requests run at once so the first screen of thumbnails is
// not queued behind the hundredth.

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

/** signedURLs returns the delivery URLs of id's variants, from cache while they stay valid. */
export function signedURLs(id: string, variants: string[], now = Date.now()): Promise<string[]> {
  const key = id + '|' + variants.join(',')
  const hit = cache.get(key)
  if (hit && hit.expires - RENEW_BEFORE_MS > now) return hit.urls
  const entry: Entry = { urls: slot(() => services().api.signedURLs(id, variants)), expires: Infinity }
  entry.urls.then(
    (urls) => (entry.expires = expiryOf(urls)),
    () => cache.delete(key), // a failure may be retried later
  )
  cache.set(key, entry)
  return entry.urls
}

/** forgetSigned drops cached URLs of an image (after it changed or was deleted). */
export function forgetSigned(id: string): void {
  for (const k of cache.keys()) if (k.startsWith(id + '|')) cache.delete(k)
}

/** forgetAllSigned drops every cached URL (when the session ends). */
export function forgetAllSigned(): void {
  cache.clear()
}
