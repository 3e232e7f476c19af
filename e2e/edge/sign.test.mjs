// The edge worker's signing, friendly-URL mapping and Accept negotiation,
// run in workerd on the vectors variant/edge_vectors_test.go checks in Go:
// both sides must agree byte for byte.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Miniflare } from 'miniflare'
import { here, repoRoot } from './lib.mjs'

const vectors = JSON.parse(readFileSync(join(repoRoot, 'variant/testdata/edge_vectors.json'), 'utf8'))

test('shared vectors: signatures, signed URLs and negotiation agree with Go', async () => {
  const mf = new Miniflare({
    modules: true,
    modulesRoot: repoRoot,
    modulesRules: [{ type: 'ESModule', include: ['**/*.js'] }],
    scriptPath: join(here, 'sign-harness.js'),
    compatibilityDate: '2025-01-01'
  })
  try {
    const res = await mf.dispatchFetch('http://harness/', { method: 'POST', body: JSON.stringify(vectors) })
    assert.equal(res.status, 200, await res.clone().text())
    const got = await res.json()
    assert.ok(vectors.signatures.length >= 10 && vectors.urls.length >= 5 && vectors.negotiation.length >= 10)
    vectors.signatures.forEach((c, i) => assert.equal(got.signatures[i], c.signature, c.name))
    vectors.urls.forEach((c, i) => {
      const u = got.urls[i]
      assert.equal(u.error, undefined, `${c.name}: ${JSON.stringify(u.error)}`)
      assert.equal(u.route.options, c.options, c.name)
      assert.equal(u.route.id, c.id, c.name)
      assert.equal(u.url, c.url, c.name)
    })
    vectors.negotiation.forEach((c, i) => assert.equal(got.formats[i], c.format, JSON.stringify(c.accept)))
  } finally {
    await mf.dispose()
  }
})
