// A small EXIF reader for the detail page: camera, lens, exposure, dates and
// GPS position from the first bytes of a JPEG, PNG (eXIf), WebP (EXIF chunk)
// or TIFF file. The server strips location tags from originals that others
// download, so non-owners never see a position here.

export interface ExifField {
  label: string
  value: string
}

export interface Exif {
  fields: ExifField[]
  gps: { lat: number; lon: number; alt?: number } | null
}

type Value = string | number | number[]

/** readExif parses EXIF from the start of a file; null when there is none or it is damaged. */
export function readExif(buf: ArrayBuffer): Exif | null {
  try {
    const tiff = findTiff(new DataView(buf))
    return tiff ? parseTiff(tiff) : null
  } catch {
    return null
  }
}

function findTiff(v: DataView): DataView | null {
  if (v.byteLength < 12) return null
  const u16 = v.getUint16(0)
  if (u16 === 0xffd8) return fromJpeg(v)
  if (u16 === 0x4949 || u16 === 0x4d4d) return v
  if (v.getUint32(0) === 0x89504e47) return fromPng(v)
  if (ascii(v, 0, 4) === 'RIFF' && ascii(v, 8, 4) === 'WEBP') return fromWebp(v)
  return null
}

function fromJpeg(v: DataView): DataView | null {
  let p = 2
  while (p + 4 <= v.byteLength) {
    if (v.getUint8(p) !== 0xff) return null
    const marker = v.getUint8(p + 1)
    if (marker === 0xda || marker === 0xd9) return null // image data: no EXIF before it
    const len = v.getUint16(p + 2)
    if (marker === 0xe1 && ascii(v, p + 4, 6) === 'Exif\0\0') {
      return sub(v, p + 10, Math.min(len - 8, v.byteLength - p - 10))
    }
    p += 2 + len
  }
  return null
}

function fromPng(v: DataView): DataView | null {
  let p = 8
  while (p + 8 <= v.byteLength) {
    const len = v.getUint32(p)
    const type = ascii(v, p + 4, 4)
    if (type === 'eXIf') return sub(v, p + 8, Math.min(len, v.byteLength - p - 8))
    if (type === 'IDAT' || type === 'IEND') return null
    p += 12 + len
  }
  return null
}

function fromWebp(v: DataView): DataView | null {
  let p = 12
  while (p + 8 <= v.byteLength) {
    const type = ascii(v, p, 4)
    const len = v.getUint32(p + 4, true)
    if (type === 'EXIF') {
      const start = ascii(v, p + 8, 6) === 'Exif\0\0' ? p + 14 : p + 8
      return sub(v, start, Math.min(len, v.byteLength - start))
    }
    p += 8 + len + (len & 1)
  }
  return null
}

function parseTiff(t: DataView): Exif {
  const le = t.getUint16(0) === 0x4949
  const ifd0 = readIFD(t, t.getUint32(4, le), le)
  const exifOff = ifd0.get(0x8769)
  const gpsOff = ifd0.get(0x8825)
  const exif = typeof exifOff === 'number' ? readIFD(t, exifOff, le) : new Map<number, Value>()
  const gpsIFD = typeof gpsOff === 'number' ? readIFD(t, gpsOff, le) : null

  const fields: ExifField[] = []
  const add = (label: string, v: Value | undefined, fmt: (v: Value) => string = String) => {
    if (v === undefined || v === '') return
    const s = fmt(v).trim()
    if (s) fields.push({ label, value: s })
  }
  const camera = [ifd0.get(0x010f), ifd0.get(0x0110)].filter((x) => typeof x === 'string' && x.trim()) as string[]
  if (camera.length) fields.push({ label: 'Camera', value: dedupeMake(camera) })
  add('Lens', exif.get(0xa434))
  add('Exposure', exif.get(0x829a), (x) => exposure(num(x)))
  add('Aperture', exif.get(0x829d), (x) => 'f/' + round(num(x), 1))
  add('ISO', exif.get(0x8827), (x) => String(num(x)))
  add('Focal length', exif.get(0x920a), (x) => round(num(x), 1) + ' mm')
  add('Taken', exif.get(0x9003) ?? ifd0.get(0x0132), (x) => String(x).replace(/^(\d{4}):(\d{2}):(\d{2})/, '$1-$2-$3'))
  add('Orientation', ifd0.get(0x0112), (x) => String(num(x)))
  add('Software', ifd0.get(0x0131))
  add('Artist', ifd0.get(0x013b))
  add('Copyright', ifd0.get(0x8298))
  return { fields, gps: gpsIFD ? gps(gpsIFD) : null }
}

function gps(g: Map<number, Value>): Exif['gps'] {
  const lat = dms(g.get(2))
  const lon = dms(g.get(4))
  if (lat === null || lon === null) return null
  const out: NonNullable<Exif['gps']> = {
    lat: g.get(1) === 'S' ? -lat : lat,
    lon: g.get(3) === 'W' ? -lon : lon,
  }
  const alt = g.get(6)
  if (alt !== undefined) out.alt = num(alt) * (g.get(5) === 1 ? -1 : 1)
  return out
}

function dms(v: Value | undefined): number | null {
  if (!Array.isArray(v) || v.length < 3) return null
  const [d, m, s] = v as [number, number, number]
  const r = d + m / 60 + s / 3600
  return Number.isFinite(r) ? r : null
}

const TYPE_SIZE: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 7: 1, 9: 4, 10: 8 }

function readIFD(t: DataView, off: number, le: boolean): Map<number, Value> {
  const m = new Map<number, Value>()
  if (off + 2 > t.byteLength) return m
  const n = Math.min(t.getUint16(off, le), 512)
  for (let i = 0; i < n; i++) {
    const e = off + 2 + i * 12
    if (e + 12 > t.byteLength) break
    const tag = t.getUint16(e, le)
    const type = t.getUint16(e + 2, le)
    const count = t.getUint32(e + 4, le)
    const size = (TYPE_SIZE[type] ?? 0) * count
    if (!size || count > 4096) continue
    const p = size <= 4 ? e + 8 : t.getUint32(e + 8, le)
    if (p + size > t.byteLength) continue
    m.set(tag, readValue(t, p, type, count, le))
  }
  return m
}

function readValue(t: DataView, p: number, type: number, count: number, le: boolean): Value {
  if (type === 2) return ascii(t, p, count).replace(/\0.*$/s, '')
  const xs: number[] = []
  for (let i = 0; i < count; i++) {
    switch (type) {
      case 1:
      case 7:
        xs.push(t.getUint8(p + i))
        break
      case 3:
        xs.push(t.getUint16(p + i * 2, le))
        break
      case 4:
        xs.push(t.getUint32(p + i * 4, le))
        break
      case 9:
        xs.push(t.getInt32(p + i * 4, le))
        break
      case 5:
      case 10: {
        const a = type === 5 ? t.getUint32(p + i * 8, le) : t.getInt32(p + i * 8, le)
        const b = type === 5 ? t.getUint32(p + i * 8 + 4, le) : t.getInt32(p + i * 8 + 4, le)
        xs.push(b === 0 ? 0 : a / b)
        break
      }
    }
  }
  return xs.length === 1 ? xs[0]! : xs
}

function num(v: Value): number {
  return Array.isArray(v) ? (v[0] ?? 0) : typeof v === 'number' ? v : Number(v)
}

function exposure(s: number): string {
  if (!(s > 0)) return ''
  return s >= 1 ? round(s, 1) + ' s' : '1/' + Math.round(1 / s) + ' s'
}

function round(x: number, digits: number): string {
  return String(Math.round(x * 10 ** digits) / 10 ** digits)
}

/** dedupeMake avoids "Canon Canon EOS 5D" when the model repeats the make. */
function dedupeMake([make, model]: string[]): string {
  if (!model) return make!.trim()
  return model.toLowerCase().startsWith(make!.trim().toLowerCase()) ? model.trim() : `${make!.trim()} ${model.trim()}`
}

function ascii(v: DataView, off: number, n: number): string {
  let s = ''
  for (let i = 0; i < n && off + i < v.byteLength; i++) s += String.fromCharCode(v.getUint8(off + i))
  return s
}

function sub(v: DataView, off: number, len: number): DataView | null {
  if (off < 0 || len <= 8) return null
  return new DataView(v.buffer, v.byteOffset + off, len)
}
