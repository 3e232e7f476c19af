// Format and pixel size of an encoded image, read from its own headers:
// JPEG (SOFn), PNG (IHDR), WebP (VP8, VP8L, VP8X) and AVIF (ispe).
export function imageInfo (buf) {
  const b = Buffer.from(buf)
  if (b[0] === 0xff && b[1] === 0xd8) return { format: 'jpeg', ...jpegSize(b) }
  if (b.subarray(1, 4).toString('latin1') === 'PNG') return { format: 'png', width: b.readUInt32BE(16), height: b.readUInt32BE(20) }
  if (b.subarray(0, 4).toString('latin1') === 'RIFF' && b.subarray(8, 12).toString('latin1') === 'WEBP') return { format: 'webp', ...webpSize(b) }
  if (b.subarray(4, 8).toString('latin1') === 'ftyp' && /avi[fs]/.test(b.subarray(8, 32).toString('latin1'))) return { format: 'avif', ...avifSize(b) }
  throw new Error('unknown image format: ' + b.subarray(0, 16).toString('hex'))
}

function jpegSize (b) {
  let i = 2
  while (i + 9 < b.length) {
    if (b[i] !== 0xff) throw new Error('JPEG: lost marker sync')
    const m = b[i + 1]
    if (m === 0xff) { i++; continue }
    const len = b.readUInt16BE(i + 2)
    if (m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) {
      return { height: b.readUInt16BE(i + 5), width: b.readUInt16BE(i + 7) }
    }
    i += 2 + len
  }
  throw new Error('JPEG: no SOF marker')
}

function webpSize (b) {
  const chunk = b.subarray(12, 16).toString('latin1')
  if (chunk === 'VP8 ') return { width: b.readUInt16LE(26) & 0x3fff, height: b.readUInt16LE(28) & 0x3fff }
  if (chunk === 'VP8L') {
    const v = b.readUInt32LE(21)
    return { width: (v & 0x3fff) + 1, height: ((v >> 14) & 0x3fff) + 1 }
  }
  if (chunk === 'VP8X') return { width: b.readUIntLE(24, 3) + 1, height: b.readUIntLE(27, 3) + 1 }
  throw new Error('WebP: unknown chunk ' + chunk)
}

// avifSize reads the first image spatial extent property (ispe): its box
// holds version/flags, then the width and height as 32-bit big-endian.
function avifSize (b) {
  const i = b.indexOf('ispe', 0, 'latin1')
  if (i < 0) throw new Error('AVIF: no ispe box')
  return { width: b.readUInt32BE(i + 8), height: b.readUInt32BE(i + 12) }
}
