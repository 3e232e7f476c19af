import { describe, expect, it } from 'vitest'
import {
  DEFAULT_SPEC,
  absoluteURL,
  displaySize,
  imgSnippet,
  optionString,
  outputSize,
  thumbVariants,
  validateSpec,
  type VariantSpec,
} from './options'

const spec = (s: Partial<VariantSpec>): VariantSpec => ({ ...DEFAULT_SPEC, ...s })

describe('optionString', () => {
  it.each([
    [spec({}), 'rs:fit:800:0/q:80/f:webp'],
    [spec({ fit: 'fill', width: 300, height: 200, gravity: 'sm', quality: 0, format: '' }), 'rs:fill:300:200/g:sm'],
    [spec({ fit: 'fill', width: 300, height: 200, gravity: 'ce', format: 'avif' }), 'rs:fill:300:200/q:80/f:avif'],
    [spec({ fit: 'fit', gravity: 'no' }), 'rs:fit:800:0/q:80/f:webp'], // gravity means nothing without a crop
    [spec({ width: 1e9, height: -5, quality: 400, dpr: 2 }), 'rs:fit:16384:0/q:100/dpr:2/f:webp'],
  ])('%o -> %s', (s, want) => expect(optionString(s)).toBe(want))
})

describe('validateSpec', () => {
  it.each([
    [spec({}), ''],
    [spec({ width: 0, height: 0 }), 'Give a width, a height or both.'],
    [spec({ fit: 'fill', height: 0 }), 'This fit needs both a width and a height.'],
    [spec({ width: 20000 }), 'Width and height go up to 16384 pixels.'],
  ])('%o', (s, want) => expect(validateSpec(s)).toBe(want))
})

describe('helpers', () => {
  it('builds square WebP thumbnails', () => {
    expect(thumbVariants([100, 200])).toEqual(['rs:fill:100:100/g:sm/q:75/f:webp', 'rs:fill:200:200/g:sm/q:75/f:webp'])
  })
  it('makes URLs absolute', () => {
    expect(absoluteURL('/img/a/b', 'https://x.test/')).toBe('https://x.test/img/a/b')
    expect(absoluteURL('https://cdn.test/img/a', 'https://x.test')).toBe('https://cdn.test/img/a')
  })
  it('writes an escaped img snippet', () => {
    const s = imgSnippet({
      urls: ['/img/s1/x', '/img/s2/x'],
      widths: [400, 800],
      alt: 'A "cat" & <dog>',
      width: 400,
      height: 300,
    })
    expect(s).toBe(
      '<img src="/img/s1/x" srcset="/img/s1/x 400w, /img/s2/x 800w" sizes="(max-width: 400px) 100vw, 400px" width="400" height="300" alt="A &quot;cat&quot; &amp; &lt;dog>" loading="lazy" decoding="async">',
    )
  })
  it('swaps sides for rotated orientations', () => {
    expect(displaySize(4000, 3000, 6)).toEqual({ width: 3000, height: 4000 })
    expect(displaySize(4000, 3000, 1)).toEqual({ width: 4000, height: 3000 })
  })
  it('predicts output sizes', () => {
    expect(outputSize(spec({ width: 800, height: 0 }), { width: 4000, height: 3000 })).toEqual({ width: 800, height: 600 })
    expect(outputSize(spec({ width: 800, height: 800 }), { width: 4000, height: 2000 })).toEqual({ width: 800, height: 400 })
    expect(outputSize(spec({ fit: 'fill', width: 300, height: 300 }), { width: 4000, height: 2000 })).toEqual({
      width: 300,
      height: 300,
    })
  })
})
