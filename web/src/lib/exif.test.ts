import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { readExif } from './exif'

// Real files from the repository's licensed test images (testdata/images/LICENSES.md).
const images = fileURLToPath(new URL('../../../testdata/images/', import.meta.url))
const load = (p: string) => {
  const b = readFileSync(images + p)
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)
}
const field = (e: ReturnType<typeof readExif>, label: string) => e?.fields.find((f) => f.label === label)?.value

describe('readExif', () => {
  it('reads the GPS position (54°59.38′ N) from a JPEG', () => {
    const e = readExif(load('metadata/GPS.jpg'))
    expect(e?.gps?.lat).toBeCloseTo(54 + 59.38 / 60, 3)
    expect(Math.abs(e!.gps!.lon)).toBeGreaterThan(0)
  })

  it('reads camera fields from ExifTool.jpg', () => {
    const e = readExif(load('metadata/ExifTool.jpg'))
    expect(e).not.toBeNull()
    expect(field(e, 'Camera')).toBeTruthy()
    expect(e!.fields.length).toBeGreaterThan(2)
  })

  it('reads the orientation tag', () => {
    expect(field(readExif(load('exif-orientation/Landscape_6.jpg')), 'Orientation')).toBe('6')
  })

  it('returns null for a file without EXIF or not an image', () => {
    expect(readExif(load('alpha/blackbug.png'))).toBeNull()
    expect(readExif(new TextEncoder().encode('hello, this is not an image').buffer)).toBeNull()
  })

  it('survives a file cut short in the middle of its EXIF', () => {
    const whole = load('metadata/ExifTool.jpg')
    for (const n of [20, 100, 400, 1000]) expect(() => readExif(whole.slice(0, n))).not.toThrow()
  })
})
