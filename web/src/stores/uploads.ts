import { defineStore } from 'pinia'
import { computed, ref, shallowRef } from 'vue'
import { API } from '../api/client'
import { EventStream } from '../api/events'
import type { ServerEvent } from '../api/types'
import { services } from '../services'
import { UploadQueue, type QueueItem, type Transport, type UploadMeta } from '../upload/queue'
import { tusTransport } from '../upload/tus'
import { useGallery } from './gallery'

/**
 * useUploads drives the upload queue over tus and the events WebSocket, and
 * puts each finished image into the gallery.
 */
export const useUploads = defineStore('uploads', () => {
  const items = shallowRef<QueueItem[]>([])
  const totals = shallowRef({ size: 0, sent: 0, active: 0, speed: 0, eta: null as number | null })
  const live = ref(false) // events connected
  const meta = ref<UploadMeta>({ visibility: 'private', tags: [] })
  const panelOpen = ref(false)
  const collapsed = ref(false)
  const announced = new Set<string>()
  let frame = 0
  let queue: UploadQueue | null = null
  let events: EventStream | null = null

  function ensure(transport?: Transport): UploadQueue {
    if (queue) return queue
    const { session } = services()
    queue = new UploadQueue({
      transport:
        transport ??
        tusTransport({ endpoint: API + '/uploads/', token: () => session.accessToken(), refresh: () => session.refresh() }),
      onChange: schedule,
    })
    void readServerLimit(queue)
    return queue
  }

  /** schedule batches renders: many progress callbacks make one update per frame. */
  function schedule(): void {
    if (frame) return
    const raf = globalThis.requestAnimationFrame ?? ((f: () => void) => setTimeout(f, 16))
    frame = raf(() => {
      frame = 0
      sync()
    }) as number
  }

  function sync(): void {
    if (!queue) return
    items.value = queue.items()
    totals.value = queue.totals()
    for (const it of items.value) {
      if (it.state === 'done' && it.imageId && !announced.has(it.id)) {
        announced.add(it.id)
        void showInGallery(it.imageId)
      }
    }
  }

  async function showInGallery(id: string): Promise<void> {
    try {
      useGallery().upsert(await services().api.getImage(id))
    } catch {
      // The gallery refreshes on its own next time.
    }
  }

  function add(files: File[]): void {
    if (!files.length) return
    connect()
    ensure().add(files, meta.value)
    panelOpen.value = true
    collapsed.value = false
    sync()
  }

  /** connect opens the events stream (idempotent). */
  function connect(): void {
    if (events) return
    const { session } = services()
    events = new EventStream({
      token: () => session.accessToken(),
      refresh: () => session.refresh(),
      onEvent: (ev: ServerEvent) => queue?.handleEvent(ev),
      onStatus: (up) => (live.value = up),
    })
    events.start()
  }

  function disconnect(): void {
    events?.stop()
    events = null
    live.value = false
  }

  const act = {
    pause: (id: string) => queue?.pause(id),
    resume: (id: string) => queue?.resume(id),
    cancel: (id: string) => queue?.cancel(id),
    retry: (id: string) => queue?.retry(id),
    pauseAll: () => queue?.pauseAll(),
    resumeAll: () => queue?.resumeAll(),
    retryFailed: () => queue?.retryFailed(),
    clearFinished: () => queue?.clearFinished(),
  }

  /** reset forgets everything (on logout): pauses running uploads so they can resume later. */
  async function reset(): Promise<void> {
    await queue?.pauseAll()
    queue = null
    items.value = []
    disconnect()
  }

  const busy = computed(() =>
    items.value.some((i) => i.state === 'uploading' || i.state === 'queued' || i.state === 'processing'),
  )
  const counts = computed(() => {
    const c = { done: 0, failed: 0, active: 0 }
    for (const i of items.value) {
      if (i.state === 'done') c.done++
      else if (i.state === 'failed' || i.state === 'rejected' || i.state === 'invalid') c.failed++
      else c.active++
    }
    return c
  })

  return { items, totals, live, meta, panelOpen, collapsed, busy, counts, add, connect, disconnect, reset, ensure, ...act }
})

/** readServerLimit reads Tus-Max-Size from the tus OPTIONS answer to check sizes before sending. */
async function readServerLimit(q: UploadQueue): Promise<void> {
  try {
    const res = await fetch(API + '/uploads/', { method: 'OPTIONS' })
    const max = Number(res.headers.get('Tus-Max-Size'))
    if (max > 0) q.limits = { ...q.limits, maxBytes: max }
  } catch {
    // Unknown limit: the server still enforces it.
  }
}
