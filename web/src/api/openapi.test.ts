// Checks the typed client against the server's OpenAPI document
// (httpapi/openapi.json, also served at /api/v1/openapi.json): every route
// the client calls exists there, and the wire types have the schemas' fields.

import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { ApiClient } from './client'
import { FakeServer, json } from '../testing/fakefetch'
import type { APIKey, Album, BatchRequest, Image, ImageUpdate, Session, User } from './types'

interface OpenAPI {
  paths: Record<string, Record<string, unknown>>
  components: { schemas: Record<string, { properties?: Record<string, unknown>; required?: string[] }> }
}
const doc = JSON.parse(readFileSync(fileURLToPath(new URL('../../../httpapi/openapi.json', import.meta.url)), 'utf8')) as OpenAPI

/** Routes the client uses that another issue adds to the server; each must leave this list once documented. */
const PENDING = new Set<string>()

function documented(method: string, path: string): string | null {
  for (const [tmpl, ops] of Object.entries(doc.paths)) {
    const re = new RegExp('^' + tmpl.replace(/\{[^}]+\}/g, '[^/]+') + '$')
    if (re.test(path) && method.toLowerCase() in ops) return method + ' ' + tmpl
  }
  return null
}

interface Schema {
  properties?: Record<string, unknown>
  required?: string[]
  $ref?: string
}

/** requestSchema is the JSON request body schema of the route path matches, literal segments first. */
function requestSchema(method: string, path: string): Schema | undefined {
  const byLiteral = Object.entries(doc.paths).sort(([a], [b]) => (a.match(/\{/g)?.length ?? 0) - (b.match(/\{/g)?.length ?? 0))
  for (const [tmpl, ops] of byLiteral) {
    const op = ops[method.toLowerCase()] as { requestBody?: { content: Record<string, { schema: Schema }> } } | undefined
    if (!op || !new RegExp('^' + tmpl.replace(/\{[^}]+\}/g, '[^/]+') + '$').test(path)) continue
    const s = op.requestBody?.content['application/json']?.schema
    return s?.$ref ? (doc.components.schemas[s.$ref.split('/').pop()!] as Schema) : s
  }
  return undefined
}

/** Every call the client can make, with arguments that reach the server. */
async function everyCall(api: ApiClient): Promise<void> {
  const f = new File(['x'], 'a.png', { type: 'image/png' })
  await api.login('u', 'p')
  await api.refresh('r')
  await api.logout('r')
  await api.listImages({ tag: 't' })
  await api.getImage('i1')
  await api.updateImage('i1', { title: 't' })
  await api.deleteImage('i1')
  await api.batch({ action: 'delete', ids: ['i1'] })
  await api.signedURLs('i1', ['w:10'])
  await api.signedURLsMany(['i1', 'i2'], ['w:10'], 60)
  await api.original('i1')
  await api.uploadMultipart([f])
  await api.listAlbums()
  await api.createAlbum('a')
  await api.listTags()
  await api.listUsers()
  await api.createUser({ username: 'u', password: 'p', role: 'user' })
  await api.updateUser('u1', { role: 'admin' })
  await api.changePassword('u1', 'old password', 'new password')
  await api.deleteUser('u1')
  await api.listAPIKeys()
  await api.createAPIKey('k')
  await api.deleteAPIKey('k1')
  await api.stats()
}

describe('client against the OpenAPI document', () => {
  it('calls only documented routes (or ones listed as pending)', async () => {
    const calls: string[] = []
    const srv = new FakeServer()
    const api = new ApiClient({
      fetch: async (input, init) => {
        await srv.fetch(input, init)
        const c = srv.calls.at(-1)!
        calls.push(c.method + ' ' + c.path)
        return json(200, { images: [], next_cursor: '', urls: [], results: [] })
      },
    })
    await everyCall(api)
    expect(calls.length).toBe(24)
    const undocumented = calls.filter((c) => {
      const [m, p] = c.split(' ') as [string, string]
      return documented(m, p) === null && !PENDING.has(c.replace(/\/images\/i1\//, '/images/{id}/'))
    })
    expect(undocumented).toEqual([])
  })

  it('sends JSON bodies with only the documented fields, and every required one', async () => {
    const srv = new FakeServer()
    const api = new ApiClient({
      fetch: async (input, init) => {
        await srv.fetch(input, init)
        return json(200, { images: [], next_cursor: '', urls: [], results: [] })
      },
    })
    await everyCall(api)
    const wrong: string[] = []
    for (const c of srv.calls) {
      if (!c.body || c.body instanceof FormData) continue
      const schema = requestSchema(c.method, c.path)
      const sent = Object.keys(c.body as object)
      const extra = sent.filter((k) => !(k in (schema?.properties ?? {})))
      const absent = (schema?.required ?? []).filter((k) => !sent.includes(k))
      if (!schema || extra.length || absent.length) wrong.push(`${c.method} ${c.path}: extra ${extra} absent ${absent}`)
    }
    expect(wrong).toEqual([])
  })

  it('has no pending route that the server already documents', () => {
    const nowDocumented = [...PENDING].filter((r) => {
      const [m, p] = r.split(' ') as [string, string]
      return documented(m, p.replace('{id}', 'x')) !== null
    })
    expect(nowDocumented, 'remove these from PENDING').toEqual([])
  })

  // Each object lists exactly the keys of its TypeScript type (the compiler
  // checks that); the test compares them with the schema's properties.
  const fields = {
    Image: {
      id: 1,
      owner_id: 1,
      sha256: 1,
      size: 1,
      format: 1,
      width: 1,
      height: 1,
      frames: 1,
      alpha: 1,
      orientation: 1,
      title: 1,
      filename: 1,
      visibility: 1,
      album_id: 1,
      tags: 1,
      created_at: 1,
      updated_at: 1,
    } satisfies Record<keyof Image, 1>,
    ImageUpdate: { title: 1, visibility: 1, album_id: 1, tags: 1, add_tags: 1, remove_tags: 1 } satisfies Record<
      keyof ImageUpdate,
      1
    >,
    BatchRequest: { action: 1, ids: 1, tags: 1, album_id: 1, visibility: 1 } satisfies Record<keyof BatchRequest, 1>,
    User: { id: 1, username: 1, role: 1, created_at: 1, updated_at: 1, password_changed_at: 1 } satisfies Record<keyof User, 1>,
    Tokens: { access_token: 1, refresh_token: 1, expires_in: 1, token_type: 1, user: 1 } satisfies Record<keyof Session, 1>,
    Album: { id: 1, owner_id: 1, name: 1, created_at: 1, count: 1 } satisfies Record<keyof Album, 1>,
    APIKey: { id: 1, user_id: 1, name: 1, prefix: 1, created_at: 1, last_used_at: 1 } satisfies Record<keyof APIKey, 1>,
  }
  it.each(Object.entries(fields))('%s has the schema fields', (name, keys) => {
    const schema = doc.components.schemas[name]
    expect(schema, `schema ${name}`).toBeDefined()
    expect(Object.keys(keys).sort()).toEqual(Object.keys(schema!.properties ?? {}).sort())
  })
})
