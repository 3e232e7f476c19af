import { defineStore } from 'pinia'
import { computed, reactive, ref } from 'vue'
import { ApiError, humanError } from '../api/errors'
import { normaliseImage } from '../api/client'
import type { BatchRequest, BatchResult, Image, ImageFilter, Visibility } from '../api/types'
import { services } from '../services'

export const PAGE_SIZE = 60
/** How long a delete can be undone before it is sent. */
export const UNDO_MS = 6000

export interface BatchOutcome {
  ok: number
  failed: { id: string; message: string }[]
  /** undo reverts what succeeded; undefined when nothing can be undone. */
  undo?: () => Promise<BatchOutcome>
}

interface PendingDelete {
  images: { image: Image; index: number }[]
  timer: ReturnType<typeof setTimeout>
  done: Promise<BatchOutcome>
  resolve: (o: BatchOutcome) => void
}

/**
 * useGallery is the image listing: filters, cursor pages, selection (click,
 * shift-click range, all in view) and batch actions with undo.
 */
export const useGallery = defineStore('gallery', () => {
  const images = ref<Image[]>([])
  const nextCursor = ref('')
  const loading = ref(false)
  const loaded = ref(false) // the first page arrived
  const error = ref('')
  const filter = reactive<ImageFilter>({ sort: '-created' })
  const selected = ref(new Set<string>())
  const anchor = ref<string | null>(null)
  let pending: PendingDelete | null = null
  let generation = 0 // bumps on every reset: late pages of an old filter are dropped
  let abort: AbortController | null = null

  const hasMore = computed(() => !loaded.value || nextCursor.value !== '')
  const selectedImages = computed(() => images.value.filter((im) => selected.value.has(im.id)))

  async function loadMore(): Promise<void> {
    if (loading.value || (loaded.value && !nextCursor.value)) return
    loading.value = true
    error.value = ''
    const gen = generation
    abort = new AbortController()
    try {
      const page = await services().api.listImages(cleanFilter(filter), nextCursor.value, PAGE_SIZE, abort.signal)
      if (gen !== generation) return
      const seen = new Set(images.value.map((im) => im.id))
      const hidden = new Set(pending?.images.map((p) => p.image.id))
      images.value.push(...page.images.filter((im) => !seen.has(im.id) && !hidden.has(im.id)))
      nextCursor.value = page.next_cursor
      loaded.value = true
    } catch (e) {
      if (gen === generation && !(e instanceof Error && e.name === 'AbortError')) error.value = humanError(e)
    } finally {
      if (gen === generation) loading.value = false
    }
  }

  /** reload starts the listing over (after a filter change). */
  function reload(): Promise<void> {
    generation++
    abort?.abort()
    images.value = []
    nextCursor.value = ''
    loaded.value = false
    loading.value = false
    clearSelection()
    return loadMore()
  }

  /** clear forgets the listing and the filters (when the session ends). */
  function clear(): void {
    generation++
    abort?.abort()
    images.value = []
    nextCursor.value = ''
    loaded.value = false
    loading.value = false
    error.value = ''
    for (const k of Object.keys(filter) as (keyof ImageFilter)[]) delete filter[k]
    filter.sort = '-created'
    clearSelection()
  }

  function setFilter(f: Partial<ImageFilter>): Promise<void> {
    Object.assign(filter, f)
    return reload()
  }

  /** upsert puts a new or changed image in place (new ones first when sorted by newest). */
  function upsert(im: Image): void {
    const i = images.value.findIndex((x) => x.id === im.id)
    if (i >= 0) images.value[i] = im
    else if ((filter.sort ?? '-created') === '-created' && matchesSimpleFilter(im, filter)) images.value.unshift(im)
  }

  function remove(ids: string[]): void {
    const drop = new Set(ids)
    images.value = images.value.filter((im) => !drop.has(im.id))
    for (const id of ids) selected.value.delete(id)
  }

  // --- selection ---

  /** toggle selects or unselects one image; with range, everything from the last clicked one to it. */
  function toggle(id: string, range = false): void {
    const ids = images.value.map((im) => im.id)
    const to = ids.indexOf(id)
    const from = anchor.value === null ? -1 : ids.indexOf(anchor.value)
    const next = new Set(selected.value)
    if (range && from >= 0 && to >= 0) {
      const on = next.has(anchor.value!) // extend the anchor's state over the range
      const [a, b] = from < to ? [from, to] : [to, from]
      for (const x of ids.slice(a, b + 1)) {
        if (on) next.add(x)
        else next.delete(x)
      }
    } else if (next.has(id)) next.delete(id)
    else next.add(id)
    anchor.value = id
    selected.value = next
  }
  function selectAll(): void {
    selected.value = new Set(images.value.map((im) => im.id))
  }
  function clearSelection(): void {
    selected.value = new Set()
    anchor.value = null
  }

  // --- batch actions ---

  async function batch(req: BatchRequest): Promise<BatchOutcome> {
    const results = await services().api.batch(req)
    // The server returns each changed image: take its word for what it now is.
    for (const r of results) {
      const i = r.image ? images.value.findIndex((im) => im.id === r.id) : -1
      if (i >= 0) images.value[i] = normaliseImage(r.image!)
    }
    return summarise(req.ids, results)
  }

  /** tag adds (or with remove, takes off) tags on the selection; undo reverses only what changed. */
  async function tag(tags: string[], removeTags = false): Promise<BatchOutcome> {
    const targets = selectedImages.value
    const changed = (im: Image, t: string) => im.tags!.includes(t) === removeTags
    const before = new Map(targets.map((im) => [im.id, tags.filter((t) => changed(im, t))]))
    const ids = targets.map((im) => im.id)
    const out = await batch({ action: removeTags ? 'untag' : 'tag', ids, tags })
    const okIds = ids.filter((id) => !out.failed.some((f) => f.id === id))
    for (const im of images.value) {
      if (!okIds.includes(im.id)) continue
      const set = new Set(im.tags)
      for (const t of tags) {
        if (removeTags) set.delete(t)
        else set.add(t)
      }
      im.tags = [...set].sort()
    }
    out.undo = async () => {
      // Per image, revert only the tags this action really added or removed.
      const byTags = groupBy(okIds, (id) => (before.get(id) ?? []).join('\u0000'))
      let total: BatchOutcome = { ok: 0, failed: [] }
      for (const [key, group] of byTags) {
        if (!key) continue
        const ts = key.split('\u0000')
        const o = await batch({ action: removeTags ? 'tag' : 'untag', ids: group, tags: ts })
        total = merge(total, o)
        for (const im of images.value) {
          if (!group.includes(im.id)) continue
          const set = new Set(im.tags)
          for (const t of ts) {
            if (removeTags) set.add(t)
            else set.delete(t)
          }
          im.tags = [...set].sort()
        }
      }
      return total
    }
    return out
  }

  /** setField moves the selection to an album or changes its visibility; undo puts each back. */
  async function setField(field: 'album_id' | 'visibility', value: string): Promise<BatchOutcome> {
    const targets = selectedImages.value
    const ids = targets.map((im) => im.id)
    const prev = new Map(targets.map((im) => [im.id, (field === 'album_id' ? im.album_id : im.visibility) ?? '']))
    const apply = async (groupIds: string[], v: string) => {
      const o = await batch(
        field === 'album_id'
          ? { action: 'move', ids: groupIds, album_id: v }
          : { action: 'visibility', ids: groupIds, visibility: v as Visibility },
      )
      for (const im of images.value) {
        if (!groupIds.includes(im.id) || o.failed.some((f) => f.id === im.id)) continue
        if (field === 'album_id') im.album_id = v
        else im.visibility = v as Visibility
      }
      return o
    }
    const out = await apply(ids, value)
    const okIds = ids.filter((id) => !out.failed.some((f) => f.id === id))
    out.undo = async () => {
      let total: BatchOutcome = { ok: 0, failed: [] }
      for (const [v, group] of groupBy(okIds, (id) => prev.get(id) ?? '')) total = merge(total, await apply(group, v))
      return total
    }
    return out
  }

  /**
   * deleteSelected hides the selection at once and sends the delete after
   * UNDO_MS unless undone. The promise settles when the delete was sent (or undone).
   */
  function deleteSelected(): { done: Promise<BatchOutcome>; undo: () => void } {
    flushDelete()
    const ids = new Set(selected.value)
    const held = images.value.map((image, index) => ({ image, index })).filter((x) => ids.has(x.image.id))
    remove([...ids])
    let resolve!: (o: BatchOutcome) => void
    const done = new Promise<BatchOutcome>((r) => (resolve = r))
    const p: PendingDelete = { images: held, timer: setTimeout(() => void commit(p), UNDO_MS), done, resolve }
    pending = p
    const undo = () => {
      if (pending !== p) return
      clearTimeout(p.timer)
      pending = null
      for (const { image, index } of p.images) images.value.splice(Math.min(index, images.value.length), 0, image)
      p.resolve({ ok: 0, failed: [] })
    }
    return { done, undo }
  }

  async function commit(p: PendingDelete): Promise<void> {
    if (pending === p) pending = null
    clearTimeout(p.timer)
    const ids = p.images.map((x) => x.image.id)
    try {
      const out = await batch({ action: 'delete', ids })
      // Put back what the server kept, so nobody thinks it is gone.
      const kept = p.images.filter((x) => out.failed.some((f) => f.id === x.image.id))
      for (const { image, index } of kept) images.value.splice(Math.min(index, images.value.length), 0, image)
      p.resolve(out)
    } catch (e) {
      for (const { image, index } of p.images) images.value.splice(Math.min(index, images.value.length), 0, image)
      p.resolve({ ok: 0, failed: ids.map((id) => ({ id, message: humanError(e) })) })
    }
  }

  /** flushDelete sends a pending delete now (before logging out or leaving). */
  function flushDelete(): Promise<BatchOutcome> | undefined {
    const p = pending
    if (!p) return undefined
    void commit(p)
    return p.done
  }

  return {
    images,
    nextCursor,
    loading,
    loaded,
    error,
    filter,
    selected,
    hasMore,
    selectedImages,
    loadMore,
    reload,
    clear,
    setFilter,
    upsert,
    remove,
    toggle,
    selectAll,
    clearSelection,
    tag,
    setField,
    deleteSelected,
    flushDelete,
  }
})

function cleanFilter(f: ImageFilter): ImageFilter {
  const out: ImageFilter = {}
  for (const [k, v] of Object.entries(f) as [keyof ImageFilter, string | undefined][]) {
    if (v) (out as Record<string, string>)[k] = v
  }
  return out
}

function matchesSimpleFilter(im: Image, f: ImageFilter): boolean {
  if (f.album && im.album_id !== f.album) return false
  if (f.tag && !im.tags?.includes(f.tag)) return false
  if (f.format && im.format !== f.format) return false
  if (f.visibility && im.visibility !== f.visibility) return false
  if (f.q) {
    const q = f.q.toLowerCase()
    if (!im.title.toLowerCase().includes(q) && !im.filename.toLowerCase().includes(q)) return false
  }
  return true
}

function summarise(ids: string[], results: BatchResult[]): BatchOutcome {
  const failed = results
    .filter((r) => r.error || (typeof r.status === 'number' ? r.status >= 300 : !/^(ok|deleted|done|updated)$/i.test(r.status)))
    .map((r) => ({ id: r.id, message: r.error?.message ? humanWords(r.error.code, r.error.message) : 'Not changed.' }))
  return { ok: ids.length - failed.length, failed }
}

function humanWords(code: string, message: string): string {
  return humanError(new ApiError(422, code, message))
}

function groupBy<T>(xs: T[], key: (x: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>()
  for (const x of xs) {
    const k = key(x)
    const g = m.get(k)
    if (g) g.push(x)
    else m.set(k, [x])
  }
  return m
}

function merge(a: BatchOutcome, b: BatchOutcome): BatchOutcome {
  return { ok: a.ok + b.ok, failed: [...a.failed, ...b.failed] }
}
