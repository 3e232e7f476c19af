// Client-side checks before a byte is sent: the type a file claims (MIME
// type or extension) and its size. The server sniffs the real type from
// magic bytes anyway; these checks only spare people a wasted upload.

export const ACCEPTED_TYPES: Record<string, string[]> = {
  'image/jpeg': ['jpg', 'jpeg', 'jpe', 'jfif'],
  'image/png': ['png'],
  'image/gif': ['gif'],
  'image/webp': ['webp'],
  'image/avif': ['avif'],
  'image/heic': ['heic'],
  'image/heif': ['heif'],
  'image/jxl': ['jxl'],
  'image/tiff': ['tif', 'tiff'],
  'image/bmp': ['bmp'],
  'image/svg+xml': ['svg'],
}

const EXTENSIONS = new Set(Object.values(ACCEPTED_TYPES).flat())

/** ACCEPT is the value for <input type=file accept=...>. */
export const ACCEPT = [...Object.keys(ACCEPTED_TYPES), ...[...EXTENSIONS].map((e) => '.' + e)].join(',')

export interface Limits {
  maxBytes?: number // 0 or undefined = no limit known
}

export interface FileLike {
  name: string
  size: number
  type: string
}

export interface Check {
  ok: boolean
  code?: 'empty' | 'too_large' | 'unsupported_type'
  message?: string
}

/** checkFile says whether f may be uploaded, and why not in words when not. */
export function checkFile(f: FileLike, limits: Limits = {}): Check {
  if (f.size === 0) return { ok: false, code: 'empty', message: 'The file is empty.' }
  if (limits.maxBytes && f.size > limits.maxBytes) {
    return {
      ok: false,
      code: 'too_large',
      message: `The file is ${formatBytes(f.size)}; the server accepts up to ${formatBytes(limits.maxBytes)}.`,
    }
  }
  if (!acceptedType(f)) {
    return { ok: false, code: 'unsupported_type', message: 'This is not an image type imgmgr accepts.' }
  }
  return { ok: true }
}

function acceptedType(f: FileLike): boolean {
  const type = f.type.toLowerCase()
  if (type && type in ACCEPTED_TYPES) return true
  // Browsers leave the type empty (or generic) for formats they do not know, like JPEG XL or HEIC.
  if (type && type !== 'application/octet-stream' && !type.startsWith('image/')) return false
  const dot = f.name.lastIndexOf('.')
  return dot > 0 && EXTENSIONS.has(f.name.slice(dot + 1).toLowerCase())
}

/** formatBytes prints a size with binary units the way people read them ("3.4 MB"). */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) return '–'
  const units = ['B', 'KB', 'MB', 'GB', 'TB']
  let i = 0
  let v = n
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024
    i++
  }
  return (i === 0 || v >= 100 ? Math.round(v) : v.toFixed(1)) + ' ' + units[i]
}

/** formatDuration prints seconds left as "8 s", "3 min", "1 h 5 min". */
export function formatDuration(s: number | null): string {
  if (s === null || !Number.isFinite(s)) return '–'
  if (s < 60) return Math.max(1, Math.round(s)) + ' s'
  const m = Math.round(s / 60)
  if (m < 60) return m + ' min'
  return Math.floor(m / 60) + ' h ' + (m % 60) + ' min'
}
