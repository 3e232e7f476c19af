// Variant option strings in the server's imgproxy-like grammar
// (rs:fit:800:0/g:sm/q:80/f:webp), built from a form's values, and the
// srcset helpers the gallery and the variant builder share.

export type Fit = 'fit' | 'fill' | 'fill-down' | 'force' | 'auto'
export type Gravity = 'ce' | 'no' | 'so' | 'ea' | 'we' | 'noea' | 'nowe' | 'soea' | 'sowe' | 'sm'
export type Format = 'webp' | 'avif' | 'jpeg' | 'png' | 'jxl' | 'gif'

export const FITS: { value: Fit; label: string }[] = [
  { value: 'fit', label: 'Fit inside (keep all)' },
  { value: 'fill', label: 'Fill and crop' },
  { value: 'fill-down', label: 'Fill, never enlarge' },
  { value: 'force', label: 'Stretch to size' },
  { value: 'auto', label: 'Auto (fill if same orientation)' },
]

export const GRAVITIES: { value: Gravity; label: string }[] = [
  { value: 'sm', label: 'Smart (most detail)' },
  { value: 'ce', label: 'Centre' },
  { value: 'no', label: 'Top' },
  { value: 'so', label: 'Bottom' },
  { value: 'we', label: 'Left' },
  { value: 'ea', label: 'Right' },
  { value: 'nowe', label: 'Top left' },
  { value: 'noea', label: 'Top right' },
  { value: 'sowe', label: 'Bottom left' },
  { value: 'soea', label: 'Bottom right' },
]

export const FORMATS: { value: Format | ''; label: string }[] = [
  { value: '', label: 'Best for the browser (Accept)' },
  { value: 'webp', label: 'WebP' },
  { value: 'avif', label: 'AVIF' },
  { value: 'jpeg', label: 'JPEG' },
  { value: 'png', label: 'PNG' },
  { value: 'jxl', label: 'JPEG XL' },
  { value: 'gif', label: 'GIF' },
]

export interface VariantSpec {
  fit: Fit
  width: number // 0 = from height / original
  height: number // 0 = from width / original
  gravity: Gravity
  quality: number // 0 = server default, else 1..100
  format: Format | ''
  dpr: number // 1 = none
}

export const DEFAULT_SPEC: VariantSpec = { fit: 'fit', width: 800, height: 0, gravity: 'sm', quality: 80, format: 'webp', dpr: 1 }

/** optionString turns a spec into the option path, leaving out what is default. */
export function optionString(s: VariantSpec): string {
  const w = clampInt(s.width, 0, 16384)
  const h = clampInt(s.height, 0, 16384)
  const parts = [`rs:${s.fit}:${w}:${h}`]
  const crops = s.fit === 'fill' || s.fit === 'fill-down' || s.fit === 'auto'
  if (crops && s.gravity !== 'ce') parts.push('g:' + s.gravity)
  if (s.quality > 0) parts.push('q:' + clampInt(s.quality, 1, 100))
  if (s.dpr > 1) parts.push('dpr:' + Math.min(s.dpr, 8))
  if (s.format) parts.push('f:' + s.format)
  return parts.join('/')
}

/** validateSpec returns a sentence about the first problem, or "" when the spec is usable. */
export function validateSpec(s: VariantSpec): string {
  if (!(s.width > 0) && !(s.height > 0)) return 'Give a width, a height or both.'
  if (s.width > 16384 || s.height > 16384) return 'Width and height go up to 16384 pixels.'
  if ((s.fit === 'fill' || s.fit === 'force' || s.fit === 'fill-down') && (!(s.width > 0) || !(s.height > 0))) {
    return 'This fit needs both a width and a height.'
  }
  if (s.quality < 0 || s.quality > 100) return 'Quality goes from 1 to 100 (0 for the default).'
  return ''
}

function clampInt(n: number, lo: number, hi: number): number {
  if (!Number.isFinite(n)) return lo
  return Math.min(hi, Math.max(lo, Math.round(n)))
}

/** Thumbnail widths: enough for 1x-3x on phones and 1x-2x in wide grids. */
export const THUMB_WIDTHS = [240, 480, 720]

/** thumbVariants are square, smart-cropped WebP thumbnails (WebP renders ~30x faster than AVIF here). */
export function thumbVariants(widths: number[] = THUMB_WIDTHS): string[] {
  return widths.map((w) => `rs:fill:${w}:${w}/g:sm/q:75/f:webp`)
}

/** srcset pairs URLs with their widths: "u1 240w, u2 480w". */
export function srcset(urls: string[], widths: number[]): string {
  return urls.map((u, i) => `${u} ${widths[i]}w`).join(', ')
}

/** absoluteURL makes a server-relative delivery URL absolute for copying. */
export function absoluteURL(u: string, origin: string): string {
  return /^https?:\/\//.test(u) ? u : origin.replace(/\/$/, '') + (u.startsWith('/') ? u : '/' + u)
}

/** imgSnippet is the HTML a person pastes into a page: an <img> with srcset at 1x and 2x widths. */
export function imgSnippet(opts: { urls: string[]; widths: number[]; alt: string; width: number; height: number }): string {
  const [first] = opts.urls
  const attrs = [
    `src="${escapeAttr(first ?? '')}"`,
    opts.urls.length > 1 ? `srcset="${escapeAttr(srcset(opts.urls, opts.widths))}"` : '',
    opts.urls.length > 1 ? `sizes="(max-width: ${opts.widths[0]}px) 100vw, ${opts.widths[0]}px"` : '',
    opts.width > 0 ? `width="${opts.width}"` : '',
    opts.height > 0 ? `height="${opts.height}"` : '',
    `alt="${escapeAttr(opts.alt)}"`,
    'loading="lazy"',
    'decoding="async"',
  ].filter(Boolean)
  return `<img ${attrs.join(' ')}>`
}

function escapeAttr(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;')
}

/** displaySize is the size an image shows at after EXIF rotation (orientations 5-8 swap the sides). */
export function displaySize(w: number, h: number, orientation: number): { width: number; height: number } {
  return orientation >= 5 && orientation <= 8 ? { width: h, height: w } : { width: w, height: h }
}

/** outputSize predicts the variant's pixel size for the snippet's width/height attributes (0 when unknown). */
export function outputSize(s: VariantSpec, src: { width: number; height: number }): { width: number; height: number } {
  const { width: sw, height: sh } = src
  if (!(sw > 0 && sh > 0)) return { width: s.width, height: s.height }
  const w = s.width
  const h = s.height
  if (s.fit === 'force' || s.fit === 'fill') return { width: w || sw, height: h || sh }
  if (s.fit === 'fill-down') return { width: Math.min(w, sw), height: Math.min(h, sh) }
  const scale = Math.min(w > 0 ? w / sw : Infinity, h > 0 ? h / sh : Infinity)
  if (!Number.isFinite(scale)) return { width: sw, height: sh }
  return { width: Math.round(sw * scale), height: Math.round(sh * scale) }
}
