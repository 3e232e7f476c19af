import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ApiClient } from '../api/client'
import { SessionManager } from '../api/session'
import type { Image } from '../api/types'
import { setServices } from '../services'
import { FakeServer, MemoryStorage, json } from '../testing/fakefetch'
import type { Transport, TransportHandlers } from '../upload/queue'
import { useGallery } from './gallery'
import { useUploads } from './uploads'

const image: Image = {
  id: 'img1',
  owner_id: 'u1',
  sha256: 'ab',
  size: 3,
  format: 'png',
  width: 1,
  height: 1,
  frames: 1,
  alpha: false,
  orientation: 1,
  title: '',
  filename: 'a.png',
  visibility: 'private',
  tags: [],
  created_at: '',
  updated_at: '',
}

describe('uploads store', () => {
  let handlers: TransportHandlers[] = []
  const transport: Transport = {
    start: (_f, _m, h) => {
      handlers.push(h)
      return { pause: async () => {}, resume: () => {}, cancel: async () => {} }
    },
  }
  const frame = () => new Promise((r) => setTimeout(r, 30)) // renders are batched per frame

  beforeEach(() => {
    handlers = []
    const srv = new FakeServer().on('GET', '/api/v1/images/img1', () => json(200, image))
    const api = new ApiClient({ fetch: srv.fetch })
    setServices({ api, session: new SessionManager({ api, storage: new MemoryStorage() }) })
    setActivePinia(createPinia())
  })
  afterEach(() => setServices(null))

  it('shows the queue, and a finished upload appears first in the gallery', async () => {
    const u = useUploads()
    u.ensure(transport)
    u.meta.visibility = 'public'
    u.add([new File(['abc'], 'a.png', { type: 'image/png' })])
    expect(u.panelOpen).toBe(true)
    expect(u.items.map((i) => i.state)).toEqual(['uploading'])
    handlers[0]!.onProgress(1, 3)
    await frame()
    expect(u.totals).toMatchObject({ size: 3, sent: 1, active: 1 })
    handlers[0]!.onSuccess('img1')
    await frame()
    expect(u.counts).toEqual({ done: 1, failed: 0, active: 0 })
    await frame()
    expect(useGallery().images.map((i) => i.id)).toEqual(['img1'])
    u.disconnect()
  })

  it('reset pauses what runs and empties the list', async () => {
    const u = useUploads()
    u.ensure(transport)
    u.add([new File(['abc'], 'a.png', { type: 'image/png' })])
    await u.reset()
    expect(u.items).toEqual([])
    expect(u.busy).toBe(false)
  })
})
