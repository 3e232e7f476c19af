import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { ApiClient } from '../api/client'
import { SessionManager } from '../api/session'
import type { BatchRequest, Image } from '../api/types'
import { setServices } from '../services'
import { FakeServer, MemoryStorage, apiError, json } from '../testing/fakefetch'
import { PAGE_SIZE, UNDO_MS, useGallery } from './gallery'

function img(n: number): Image {
  const id = 'i' + String(n).padStart(3, '0')
  return {
    id,
    owner_id: 'u1',
    sha256: id,
    size: n,
    format: n % 2 ? 'png' : 'jpeg',
    width: 10,
    height: 10,
    frames: 1,
    alpha: false,
    orientation: 1,
    title: '',
    filename: id + '.jpg',
    visibility: 'private',
    album_id: n % 3 ? 'a1' : '',
    tags: n % 4 ? [] : ['old'],
    created_at: '2026-01-01T00:00:00Z',
    updated_at: '2026-01-01T00:00:00Z',
  }
}

/** An image library behind the fake API: cursor pages, format filter, batch actions. */
function library(count: number) {
  const db = new Map<string, Image>()
  for (let i = 1; i <= count; i++) db.set(img(i).id, img(i))
  const batches: BatchRequest[] = []
  const srv = new FakeServer()
    .on('GET', '/api/v1/images', (r) => {
      const all = [...db.values()].filter((im) => !r.query.get('format') || im.format === r.query.get('format'))
      const start = Number(r.query.get('cursor') || 0)
      const limit = Number(r.query.get('limit'))
      const page = all.slice(start, start + limit)
      return json(200, { images: page, next_cursor: start + limit < all.length ? String(start + limit) : '' })
    })
    .on('POST', '/api/v1/images/batch', (r) => {
      const req = r.body as BatchRequest
      batches.push(req)
      if (req.ids.includes('i666')) return apiError(500, 'internal', 'internal error')
      const results = req.ids.map((id) => {
        const im = db.get(id)
        if (!im || id === 'i013') return { id, status: 'error', error: { code: 'not_found', message: 'no such image' } }
        if (req.action === 'delete') db.delete(id)
        if (req.action === 'tag') im.tags = [...new Set([...(im.tags ?? []), ...req.tags!])]
        if (req.action === 'untag') im.tags = (im.tags ?? []).filter((t) => !req.tags!.includes(t))
        if (req.action === 'move') im.album_id = req.album_id
        if (req.action === 'visibility') im.visibility = req.visibility!
        return { id, status: 'ok', image: { ...im, tags: [...(im.tags ?? [])] } }
      })
      return json(200, { results })
    })
  return { db, srv, batches }
}

function setup(count: number) {
  const lib = library(count)
  const api = new ApiClient({ fetch: lib.srv.fetch })
  const session = new SessionManager({ api, storage: new MemoryStorage() })
  api.setTokens(session)
  setServices({ api, session })
  setActivePinia(createPinia())
  return { ...lib, g: useGallery() }
}

describe('gallery store', () => {
  afterEach(() => {
    setServices(null)
    vi.useRealTimers()
  })

  it('pages through the cursor until the end, without duplicate requests', async () => {
    const { g, srv } = setup(PAGE_SIZE * 2 + 5)
    await Promise.all([g.loadMore(), g.loadMore()]) // a second call while loading does nothing
    expect(g.images).toHaveLength(PAGE_SIZE)
    expect(srv.calls).toHaveLength(1)
    await g.loadMore()
    await g.loadMore()
    expect(g.images).toHaveLength(PAGE_SIZE * 2 + 5)
    expect(g.hasMore).toBe(false)
    await g.loadMore()
    expect(srv.calls).toHaveLength(3)
  })

  it('starts over on a filter change and drops a late page of the old filter', async () => {
    const { g } = setup(100)
    const old = g.loadMore()
    const fresh = g.setFilter({ format: 'png' })
    await Promise.all([old, fresh])
    expect(g.images.length).toBe(50)
    expect(g.images.every((im) => im.format === 'png')).toBe(true)
  })

  it('shows a listing error in words', async () => {
    const { g, srv } = setup(1)
    srv.on('GET', '/api/v1/images', () => apiError(503, 'unavailable', 'db down', { 'Retry-After': '5' }))
    await g.loadMore()
    expect(g.error).toBe('The server is busy or being updated. Try again in a moment.')
  })

  describe('selection', () => {
    beforeEach(() => setup(10))
    const ids = (s: Set<string>) => [...s].sort()

    it('toggles one, extends a range with shift, selects all and clears', async () => {
      const g = useGallery()
      await g.loadMore()
      g.toggle('i002')
      g.toggle('i005', true)
      expect(ids(g.selected)).toEqual(['i002', 'i003', 'i004', 'i005'])
      g.toggle('i003') // plain click toggles one
      expect(ids(g.selected)).toEqual(['i002', 'i004', 'i005'])
      g.toggle('i001', true) // range from i003 (now off) turns i001..i003 off
      expect(ids(g.selected)).toEqual(['i004', 'i005'])
      g.selectAll()
      expect(g.selected.size).toBe(10)
      g.clearSelection()
      expect(g.selected.size).toBe(0)
    })

    it('ranges backwards', async () => {
      const g = useGallery()
      await g.loadMore()
      g.toggle('i008')
      g.toggle('i006', true)
      expect(ids(g.selected)).toEqual(['i006', 'i007', 'i008'])
    })
  })

  it('tags the selection and undo removes only the tags it added', async () => {
    const { g, db, batches } = setup(8)
    await g.loadMore()
    g.toggle('i003')
    g.toggle('i004', true) // i004 already has "old"
    const out = await g.tag(['old', 'new'])
    expect(out).toMatchObject({ ok: 2, failed: [] })
    expect(db.get('i003')!.tags).toEqual(['old', 'new'])
    expect(g.images.find((i) => i.id === 'i003')!.tags).toEqual(['new', 'old'])
    await out.undo!()
    expect(db.get('i003')!.tags).toEqual([])
    expect(db.get('i004')!.tags).toEqual(['old']) // it had "old" before: kept
    expect(batches.slice(1).map((b) => [b.action, b.ids, b.tags])).toEqual(
      expect.arrayContaining([
        ['untag', ['i003'], ['old', 'new']],
        ['untag', ['i004'], ['new']],
      ]),
    )
  })

  it('moves the selection and undo puts each image back in its own album', async () => {
    const { g, db } = setup(6)
    await g.loadMore()
    g.toggle('i002') // album a1
    g.toggle('i003', true) // no album
    const out = await g.setField('album_id', 'a9')
    expect([db.get('i002')!.album_id, db.get('i003')!.album_id]).toEqual(['a9', 'a9'])
    await out.undo!()
    expect([db.get('i002')!.album_id, db.get('i003')!.album_id]).toEqual(['a1', ''])
    expect(g.images.find((i) => i.id === 'i003')!.album_id).toBe('')
  })

  it('reports per-image failures of a batch in words', async () => {
    const { g } = setup(14)
    await g.loadMore()
    g.toggle('i012')
    g.toggle('i013', true)
    const out = await g.setField('visibility', 'public')
    expect(out.ok).toBe(1)
    expect(out.failed).toEqual([{ id: 'i013', message: 'It is not there any more. It may have been deleted.' }])
    expect(g.images.find((i) => i.id === 'i012')!.visibility).toBe('public')
    expect(g.images.find((i) => i.id === 'i013')!.visibility).toBe('private')
  })

  describe('delete with undo', () => {
    it('hides at once and sends the delete after the undo window', async () => {
      vi.useFakeTimers()
      const { g, db, batches } = setup(5)
      await g.loadMore()
      g.toggle('i002')
      const { done } = g.deleteSelected()
      expect(g.images.map((i) => i.id)).toEqual(['i001', 'i003', 'i004', 'i005'])
      expect(batches).toHaveLength(0)
      await vi.advanceTimersByTimeAsync(UNDO_MS)
      expect(await done).toMatchObject({ ok: 1 })
      expect(db.has('i002')).toBe(false)
    })

    it('undo puts the images back where they were and sends nothing', async () => {
      vi.useFakeTimers()
      const { g, batches } = setup(5)
      await g.loadMore()
      g.toggle('i002')
      g.toggle('i004')
      const { undo } = g.deleteSelected()
      undo()
      await vi.advanceTimersByTimeAsync(UNDO_MS * 2)
      expect(g.images.map((i) => i.id)).toEqual(['i001', 'i002', 'i003', 'i004', 'i005'])
      expect(batches).toHaveLength(0)
    })

    it('flushes before logout and puts back images the server kept', async () => {
      const { g, db } = setup(14)
      await g.loadMore()
      g.toggle('i012')
      g.toggle('i013', true)
      g.deleteSelected()
      const out = await g.flushDelete()
      expect(out).toMatchObject({ ok: 1 })
      expect(db.has('i012')).toBe(false)
      expect(g.images.some((i) => i.id === 'i013')).toBe(true)
    })

    it('restores everything when the delete request fails', async () => {
      const { g } = setup(3)
      g.upsert({ ...img(666), id: 'i666' })
      await g.loadMore()
      g.toggle('i666')
      g.deleteSelected()
      const out = await g.flushDelete()
      expect(out?.failed[0]?.message).toMatch(/Something went wrong on the server/)
      expect(g.images.some((i) => i.id === 'i666')).toBe(true)
    })
  })

  it('puts a new upload first when sorted by newest, only if it matches the filter', async () => {
    const { g } = setup(2)
    await g.setFilter({ format: 'png' })
    g.upsert(img(8)) // jpeg
    g.upsert(img(9)) // png
    expect(g.images.map((i) => i.id)).toEqual(['i009', 'i001'])
  })
})

describe('gallery store after the session ends', () => {
  afterEach(() => setServices(null))

  it('clear forgets images, filters and selection, and the next load starts afresh', async () => {
    const { g, srv } = setup(3)
    await g.setFilter({ format: 'png' })
    g.toggle('i001')
    g.clear()
    expect([g.images.length, g.loaded, g.selected.size, g.filter]).toEqual([0, false, 0, { sort: '-created' }])
    await g.loadMore()
    expect(g.images).toHaveLength(3)
    expect(srv.calls.at(-1)!.query.get('format')).toBeNull()
  })
})
