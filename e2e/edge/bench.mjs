// bench.mjs measures the edge worker's latency against imgmgr on loopback:
// cold (edge miss, the origin renders), warm (edge cache hit), and for
// reference imgmgr reached directly (a render, and its own variant cache).
// Every cold request names a variant that nobody rendered before (its own
// width), so each one is a real render; edge and direct take alternate
// widths, so that both see the same sizes (libvips' shrink-on-load makes
// small ones cheaper). A refused size shows the worker's own cost without
// cache or origin. Requests are sequential, from one client (node's
// fetch), WebP, from the 2725x2225 test photo.
//
//   IMGMGR_BIN=path/to/imgmgr node bench.mjs [-n 50]
import { readFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { join } from 'node:path'
import { deliveryKey, login, repoRoot, startServer, startWorker, upload } from './lib.mjs'
import { Signer } from '../../deploy/edge/cloudflare/src/sign.js'

const n = Number(process.argv[process.argv.indexOf('-n') + 1]) || 50
const photo = readFileSync(join(repoRoot, 'testdata/images/photo/2569067123_aca715a2ee_o.jpg'))
// 2n+1 distinct widths: alternate ones for edge and direct cold, the last for the warm runs.
const widths = Array.from({ length: 2 * n + 1 }, (_, i) => 200 + 8 * i)
const edgeCold = widths.filter((_, i) => i < 2 * n && i % 2 === 0)
const directCold = widths.filter((_, i) => i < 2 * n && i % 2 === 1)

async function timed (url, headers, status = 200) {
  const t0 = process.hrtime.bigint()
  const res = await fetch(url, { headers })
  const body = await res.arrayBuffer()
  const ms = Number(process.hrtime.bigint() - t0) / 1e6
  if (res.status !== status || body.byteLength === 0) throw new Error(`${url}: ${res.status}`)
  return { ms, cache: res.headers.get('X-Edge-Cache') }
}

function pct (xs, p) {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]
}

const server = await startServer()
const worker = startWorker({
  ORIGIN_URL: server.url,
  IMGMGR_KEY: deliveryKey.key,
  IMGMGR_SALT: deliveryKey.salt,
  WIDTHS: widths.join(',')
})
try {
  const edge = (await worker.ready).href.replace(/\/$/, '')
  const im = await upload(server, await login(server), photo, 'photo.jpg', 'public')
  const accept = { Accept: 'image/webp,*/*' }
  const signer = new Signer(deliveryKey.key, deliveryKey.salt)
  const origin = async (w) => server.url + await signer.sign('/img', `/rs:fit:${w}:0/${im.id}.webp`)
  const rows = []
  const run = async (name, urls, wantCache, status) => {
    const ms = []
    for (const u of urls) {
      const r = await timed(u, accept, status)
      if (wantCache && r.cache !== wantCache) throw new Error(`${name}: X-Edge-Cache ${r.cache}, want ${wantCache}`)
      ms.push(r.ms)
    }
    rows.push({ name, n: ms.length, p50: pct(ms, 50), p99: pct(ms, 99) })
  }
  // Warm-up outside the figures: the isolate, the HMAC key, imgmgr's first render.
  const warm = widths[2 * n]
  await timed(`${edge}/${im.id}/w${warm}`, accept)
  await run('edge cold (miss: sign, origin render, cache put)', edgeCold.map((w) => `${edge}/${im.id}/w${w}`), 'MISS')
  await run('edge warm (edge cache hit)', Array(n).fill(`${edge}/${im.id}/w${warm}`), 'HIT')
  await run('edge refusal (400 size_not_allowed: no cache, no origin)', Array(n).fill(`${edge}/${im.id}/w7`), null, 400)
  await run('imgmgr direct, cold (render)', await Promise.all(directCold.map(origin)))
  await run('imgmgr direct, warm (its variant cache)', Array(n).fill(await origin(warm)))
  const load = loadavg().map((x) => x.toFixed(1)).join(' ')
  console.log(`\n${n} sequential requests each, loopback, WebP from a 2725x2225 JPEG (${cpus().length} cores, load average ${load})\n`)
  console.log('| path | requests | p50 ms | p99 ms |')
  console.log('|---|---:|---:|---:|')
  for (const r of rows) console.log(`| ${r.name} | ${r.n} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} |`)
} finally {
  await worker.dispose()
  await server.stop()
}
