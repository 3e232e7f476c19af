// Format negotiation, mirroring variant/negotiate.go: the first format of
// the order (AVIF, then WebP by default) that Accept names with q > 0, else
// JPEG. Wildcards do not count: "*/*" does not mean a client decodes AVIF.
//
// imgmgr itself answers PNG instead of JPEG for an image with alpha, and
// WebP or GIF for an animation; the edge cannot know either before it
// asks. So for a URL without extension the edge reduces Accept to its
// class — which formats of the order the client takes — and lets imgmgr
// negotiate for that class; the class is part of the cache key.

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

// acceptClass is the set of order formats Accept allows, as one cache-key
// word ("avif+webp", "webp", ... or "base" for neither), and the Accept
// header that stands for the class when the edge asks imgmgr.
export function acceptClass (accept, order = defaultFormatOrder) {
  const types = acceptedTypes(accept)
  const took = order.filter((f) => types.has('image/' + f))
  const header = [...took.map((f) => 'image/' + f), 'image/png', 'image/jpeg', 'image/gif'].join(', ')
  return { key: took.length ? took.join('+') : 'base', header }
}
