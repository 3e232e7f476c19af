// Format negotiation, mirroring variant/negotiate.go: the first format of
// the order (AVIF, then WebP by default) that Accept names with q > 0, else
// JPEG. Wildcards do not count: "*/*" does not mean a client decodes AVIF.
//
// imgmgr itself answers PNG instead of JPEG for an image with alpha, and
// WebP or GIF for an animation; the edge cannot know either without asking,
// so it always names a format explicitly (see README "Formats").

export const defaultFormatOrder = ['avif', 'webp']

// acceptedTypes returns the lower-cased media types Accept allows.
export function acceptedTypes (accept) {
  const types = new Set()
  for (const part of (accept || '').split(',')) {
    const [type, ...params] = part.split(';')
    const mt = type.trim().toLowerCase()
    let q = 1
    for (const p of params) {
      const eq = p.indexOf('=')
      if (eq >= 0 && p.slice(0, eq).trim() === 'q') {
        const v = p.slice(eq + 1).trim()
        // Go's strconv.ParseFloat: a malformed q is ignored (q stays 1).
        if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(v)) q = Number(v)
      }
    }
    if (mt !== '' && q > 0) types.add(mt)
  }
  return types
}

// negotiate picks the output format for a friendly URL without extension.
export function negotiate (accept, order = defaultFormatOrder) {
  const types = acceptedTypes(accept)
  for (const f of order) {
    if (types.has('image/' + f)) return f
  }
  return 'jpeg'
}
