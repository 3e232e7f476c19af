// The worker's settings, read from its bindings (wrangler.toml [vars] and
// secrets; see README). readConfig throws an Error whose message names the
// binding at fault and never a secret's value.

import { Signer } from './sign.js'
import { defaultFormatOrder } from './negotiate.js'

// Every fit imgmgr's rs: option knows.
export const fits = ['fit', 'fill', 'fill-down', 'force', 'auto']

// Formats a friendly URL may name by extension, as imgmgr spells them.
export const extensions = { avif: 'avif', webp: 'webp', jpg: 'jpeg', jpeg: 'jpeg', png: 'png', gif: 'gif', jxl: 'jxl' }

function list (env, name, fallback) {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  return String(raw).split(',').map((s) => s.trim()).filter((s) => s !== '')
}

function sizes (env, name) {
  const out = new Set()
  for (const s of list(env, name, [])) {
    if (!/^[1-9][0-9]{0,4}$/.test(s)) throw new Error(`${name}: "${s}" is not a size in pixels (1..99999)`)
    out.add(s)
  }
  return out
}

function seconds (env, name, fallback) {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  const n = Number(raw)
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name}: want whole seconds, got "${raw}"`)
  return n
}

export function readConfig (env) {
  const origin = String(env.ORIGIN_URL || '').replace(/\/+$/, '')
  if (!/^https?:\/\/[^/]+/.test(origin)) throw new Error('ORIGIN_URL: want the origin base URL, e.g. https://origin.example.com')
  const prefix = '/' + String(env.ORIGIN_PATH_PREFIX || '/img').replace(/^\/+|\/+$/g, '')
  const size = env.SIGNATURE_SIZE === undefined || env.SIGNATURE_SIZE === '' ? 32 : Number(env.SIGNATURE_SIZE)
  let signer
  try {
    signer = new Signer(env.IMGMGR_KEY || '', env.IMGMGR_SALT || '', size)
  } catch (e) {
    throw new Error(`IMGMGR_KEY, IMGMGR_SALT, SIGNATURE_SIZE: ${e.message}`)
  }
  const widths = sizes(env, 'WIDTHS')
  if (widths.size === 0) throw new Error('WIDTHS: at least one width is required')
  const order = list(env, 'FORMAT_ORDER', defaultFormatOrder)
  for (const f of order) {
    if (!['avif', 'webp', 'jxl'].includes(f)) throw new Error(`FORMAT_ORDER: "${f}" is not avif, webp or jxl`)
  }
  const presets = new Set(list(env, 'PRESETS', []))
  for (const p of presets) {
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(p)) throw new Error(`PRESETS: "${p}" is not a preset name`)
  }
  return {
    origin,
    prefix,
    signer,
    widths,
    heights: sizes(env, 'HEIGHTS'),
    presets,
    order,
    edgeTTL: seconds(env, 'EDGE_TTL', 86400),
    browserTTL: seconds(env, 'BROWSER_TTL', 3600)
  }
}
