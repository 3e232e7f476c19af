// A worker for tests only: it runs the edge worker's own signing, routing
// and negotiation modules inside workerd on the shared vectors POSTed to
// it, and answers what they computed.
import { Signer } from '../../deploy/edge/cloudflare/src/sign.js'
import { negotiate } from '../../deploy/edge/cloudflare/src/negotiate.js'
import { originPath, parseFriendly } from '../../deploy/edge/cloudflare/src/route.js'
import { readConfig } from '../../deploy/edge/cloudflare/src/config.js'

export default {
  async fetch (request) {
    const v = await request.json()
    const signatures = []
    for (const c of v.signatures) {
      signatures.push(await new Signer(c.key, c.salt, c.size).signature(c.path))
    }
    const urls = []
    for (const c of v.urls) {
      const cfg = readConfig({
        ORIGIN_URL: 'https://origin.test', IMGMGR_KEY: c.key, IMGMGR_SALT: c.salt, SIGNATURE_SIZE: String(c.size),
        WIDTHS: '320,640,800,1920', HEIGHTS: '480', PRESETS: 'thumb'
      })
      const { route, error } = parseFriendly(c.friendly, cfg)
      if (error) {
        urls.push({ error })
        continue
      }
      urls.push({ route, url: await cfg.signer.sign(cfg.prefix, originPath(route, route.format || c.format)) })
    }
    const formats = v.negotiation.map((c) => negotiate(c.accept))
    return Response.json({ signatures, urls, formats })
  }
}
