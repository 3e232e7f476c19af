// Signed delivery URLs, asked for once per image and variant list and kept
// for the page's life. At most a few requests run at once so the first
// screen of thumbnails is not queued behind the hundredth.

import { services } from '../services'

const cache = new Map<string, Promise<string[]>>()
const MAX_IN_FLIGHT = 6
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

/** signedURLs returns the delivery URLs of id's variants, from cache when asked before. */
export function signedURLs(id: string, variants: string[]): Promise<string[]> {
  const key = id + '|' + variants.join(',')
  let p = cache.get(key)
  if (!p) {
    p = slot(() => services().api.signedURLs(id, variants))
    p.catch(() => cache.delete(key)) // a failure may be retried later
    cache.set(key, p)
  }
  return p
}

/** forgetSigned drops cached URLs of an image (after it changed or was deleted). */
export function forgetSigned(id: string): void {
  for (const k of cache.keys()) if (k.startsWith(id + '|')) cache.delete(k)
}

/** forgetAllSigned drops every cached URL (when the session ends). */
export function forgetAllSigned(): void {
  cache.clear()
}
