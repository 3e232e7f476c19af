// Friendly URLs and the imgmgr variant each one stands for:
//
//   /{image_id}/{preset}[.{ext}]                 -> pr:{preset}
//   /{image_id}/w{W}[h{H}][-{fit}][.{ext}]       -> rs:{fit}:{W}:{H or 0}
//
// fit defaults to "fit". parseFriendly never throws: it returns either
// { route } or { error: { status, code, message } } in imgmgr's error
// vocabulary.

import { extensions, fits } from './config.js'

const idPattern = /^[A-Za-z0-9_-]{1,128}$/
const sizePattern = /^w([0-9]+)(?:h([0-9]+))?(?:-([a-z-]+))?$/

function refuse (status, code, message) {
  return { error: { status, code, message } }
}

// parseFriendly maps a URL path (as the client sent it) to a route:
// { id, spec, options, format } where spec is the normalised friendly name
// of the variant (the same for every spelling of it), options the imgmgr
// options to sign and format the extension's format or "" (negotiate).
export function parseFriendly (pathname, cfg) {
  const segs = pathname.split('/')
  if (segs.length !== 3 || segs[0] !== '' || !idPattern.test(segs[1])) {
    return refuse(404, 'not_found', 'no such image URL; use /{image_id}/{preset} or /{image_id}/w{width}')
  }
  const id = segs[1]
  let name = segs[2]
  let format = ''
  const dot = name.lastIndexOf('.')
  if (dot >= 0) {
    format = extensions[name.slice(dot + 1).toLowerCase()]
    if (!format) return refuse(400, 'invalid_option', `unsupported output format "${name.slice(dot + 1)}"`)
    name = name.slice(0, dot)
  }
  if (cfg.presets.has(name)) return { route: { id, spec: name, options: 'pr:' + name, format } }
  const m = sizePattern.exec(name)
  if (!m) {
    if (/^w[0-9]/.test(name)) return refuse(400, 'invalid_option', 'write sizes as w{width}[h{height}][-{fit}]')
    return refuse(404, 'unknown_preset', `no preset named "${name}"`)
  }
  const [, w, h, fit = 'fit'] = m
  if (!cfg.widths.has(w)) return refuse(400, 'size_not_allowed', `width ${w} is not one of ${[...cfg.widths].join(', ')}`)
  if (h !== undefined && !cfg.heights.has(h)) {
    const allowed = cfg.heights.size ? `one of ${[...cfg.heights].join(', ')}` : 'allowed (no heights are configured)'
    return refuse(400, 'size_not_allowed', `height ${h} is not ${allowed}`)
  }
  if (!fits.includes(fit)) return refuse(400, 'invalid_option', `fit "${fit}" is not one of ${fits.join(', ')}`)
  const spec = `w${w}${h ? 'h' + h : ''}-${fit}`
  return { route: { id, spec, options: `rs:${fit}:${w}:${h || 0}`, format } }
}

// Extension is imgmgr's spelling of a format in a URL (variant.Extension).
export function extension (format) {
  return format === 'jpeg' ? 'jpg' : format
}

// originPath is the path imgmgr signs: /{options}/{id}.{ext}, or
// /{options}/{id} for imgmgr to negotiate (format "").
export function originPath (route, format) {
  return format ? `/${route.options}/${route.id}.${extension(format)}` : `/${route.options}/${route.id}`
}
