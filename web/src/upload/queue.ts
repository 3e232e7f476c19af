// UploadQueue is the upload logic without a UI: it checks files, runs a few
// uploads at a time through a Transport (tus in the app, a test double in
// tests), measures speed and time left, pauses, resumes, cancels and retries,
// and follows the server's stages (scanning, processing, done, rejected)
// from the events stream. Views render its snapshot.

import { ApiError, NetworkError, humanError } from '../api/errors'
import type { ServerEvent, Stage } from '../api/types'
import { checkFile, type FileLike, type Limits } from './validate'

export type ItemState =
  | 'invalid' // refused before sending
  | 'queued'
  | 'uploading'
  | 'paused'
  | 'processing' // all bytes sent; the server is checking and storing
  | 'done'
  | 'rejected' // the server refused the file (with a reason)
  | 'failed' // could not finish (network, server trouble): retry may help

export interface QueueItem {
  readonly id: string
  readonly name: string
  readonly size: number
  readonly type: string
  state: ItemState
  stage: Stage | null // last stage the server reported
  sent: number // bytes acknowledged so far
  speed: number // bytes per second, smoothed; 0 when unknown
  eta: number | null // seconds left; null when unknown
  error: string // human words when invalid, rejected or failed
  errorCode: string
  uploadId: string // the server's upload id, once known
  imageId: string // the stored image, once done
}

export interface UploadMeta {
  title?: string
  album?: string
  tags?: string[]
  visibility?: 'private' | 'public'
}

export interface TransportHandlers {
  onUploadId(id: string): void
  onProgress(sent: number, total: number): void
  /** all bytes are in; imageId is "" when the server reports the image later (events). */
  onSuccess(imageId: string): void
  /** err is an ApiError when the server answered, NetworkError or Error otherwise. */
  onError(err: unknown): void
}

export interface TransportUpload {
  /** pause stops sending and keeps the upload on the server to resume later. */
  pause(): Promise<void>
  /** resume continues a paused upload from the server's offset. */
  resume(): void
  /** cancel stops and deletes the upload on the server. */
  cancel(): Promise<void>
}

export interface Transport {
  start(file: File, meta: Record<string, string>, h: TransportHandlers): TransportUpload
}

export interface QueueOptions {
  transport: Transport
  concurrency?: number // default 3
  limits?: Limits
  now?: () => number // ms
  onChange?: () => void
}

interface Entry {
  item: QueueItem
  file: File
  meta: Record<string, string>
  upload: TransportUpload | null
  samples: { t: number; sent: number }[]
}

const SPEED_WINDOW_MS = 5000
let seq = 0

export class UploadQueue {
  private readonly entries: Entry[] = []
  private readonly transport: Transport
  private readonly concurrency: number
  private readonly now: () => number
  limits: Limits
  onChange: () => void

  constructor(opts: QueueOptions) {
    this.transport = opts.transport
    this.concurrency = opts.concurrency ?? 3
    this.limits = opts.limits ?? {}
    this.now = opts.now ?? (() => performance.now())
    this.onChange = opts.onChange ?? (() => {})
  }

  /** items returns copies of the items, in the order they were added. */
  items(): QueueItem[] {
    return this.entries.map((e) => ({ ...e.item }))
  }

  /** totals sums the active uploads for one overall progress bar. */
  totals(): { size: number; sent: number; active: number; speed: number; eta: number | null } {
    let size = 0
    let sent = 0
    let active = 0
    let speed = 0
    for (const { item } of this.entries) {
      if (item.state === 'queued' || item.state === 'uploading' || item.state === 'paused') {
        size += item.size
        sent += item.sent
        active++
        if (item.state === 'uploading') speed += item.speed
      }
    }
    return { size, sent, active, speed, eta: speed > 0 ? (size - sent) / speed : null }
  }

  /** add checks and enqueues files; returns the new items' ids. Files already queued are skipped. */
  add(files: File[], meta: UploadMeta = {}): string[] {
    const ids: string[] = []
    for (const file of files) {
      if (this.isDuplicate(file)) continue
      const item = newItem(file)
      const check = checkFile(file, this.limits)
      if (!check.ok) {
        item.state = 'invalid'
        item.error = check.message ?? 'This file cannot be uploaded.'
        item.errorCode = check.code ?? 'invalid'
      }
      this.entries.push({ item, file, meta: encodeMeta(file, meta), upload: null, samples: [] })
      ids.push(item.id)
    }
    this.pump()
    this.changed()
    return ids
  }

  async pause(id: string): Promise<void> {
    const e = this.find(id)
    if (!e || (e.item.state !== 'uploading' && e.item.state !== 'queued')) return
    const wasUploading = e.item.state === 'uploading'
    e.item.state = 'paused'
    e.item.speed = 0
    e.item.eta = null
    e.samples = []
    this.changed()
    if (wasUploading) await e.upload?.pause()
    this.pump()
  }

  resume(id: string): void {
    const e = this.find(id)
    if (!e || e.item.state !== 'paused') return
    e.item.state = 'queued'
    this.pump()
    this.changed()
  }

  async cancel(id: string): Promise<void> {
    const i = this.entries.findIndex((e) => e.item.id === id)
    const e = this.entries[i]
    if (!e) return
    this.entries.splice(i, 1)
    this.changed()
    const active = e.item.state === 'uploading' || e.item.state === 'paused'
    if (active && e.upload) await e.upload.cancel().catch(() => {})
    this.pump()
  }

  /** retry starts a failed (or rejected) upload again; tus resumes it from the server's offset. */
  retry(id: string): void {
    const e = this.find(id)
    if (!e || (e.item.state !== 'failed' && e.item.state !== 'rejected')) return
    Object.assign(e.item, { state: 'queued', stage: null, error: '', errorCode: '', speed: 0, eta: null })
    e.upload = null
    this.pump()
    this.changed()
  }

  pauseAll(): Promise<void[]> {
    return Promise.all(this.entries.map((e) => this.pause(e.item.id)))
  }
  resumeAll(): void {
    for (const e of this.entries) this.resume(e.item.id)
  }
  retryFailed(): void {
    for (const e of this.entries) if (e.item.state === 'failed') this.retry(e.item.id)
  }

  /** clearFinished drops done, rejected and invalid items from the list. */
  clearFinished(): void {
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const s = this.entries[i]!.item.state
      if (s === 'done' || s === 'rejected' || s === 'invalid') this.entries.splice(i, 1)
    }
    this.changed()
  }

  /** handleEvent applies a server event about one of our uploads; others are ignored. */
  handleEvent(ev: ServerEvent): void {
    const e = this.entries.find((x) => x.item.uploadId !== '' && x.item.uploadId === ev.upload_id)
    if (!e) return
    const it = e.item
    if (it.state === 'done' || it.state === 'rejected') return
    if (ev.type === 'upload.failed' || ev.stage === 'rejected') {
      this.reject(e, new ApiError(422, ev.code || 'unprocessable', ev.message ?? ''))
      return
    }
    if (ev.stage) it.stage = ev.stage
    if (ev.image_id) it.imageId = ev.image_id
    if (ev.type === 'upload.completed' || ev.stage === 'done') {
      this.finish(e, ev.image_id ?? it.imageId)
      return
    }
    if (it.state === 'uploading' && ev.stage && ev.stage !== 'receiving') it.state = 'processing'
    this.changed()
  }

  private pump(): void {
    let running = this.entries.filter((e) => e.item.state === 'uploading').length
    for (const e of this.entries) {
      if (running >= this.concurrency) break
      if (e.item.state !== 'queued') continue
      running++
      this.startEntry(e)
    }
  }

  private startEntry(e: Entry): void {
    e.item.state = 'uploading'
    e.item.stage = 'receiving'
    e.samples = [{ t: this.now(), sent: e.item.sent }]
    if (e.upload) {
      e.upload.resume()
      return
    }
    const alive = () => this.entries.includes(e)
    e.upload = this.transport.start(e.file, e.meta, {
      onUploadId: (id) => {
        if (alive()) e.item.uploadId = id
      },
      onProgress: (sent) => {
        if (alive() && e.item.state === 'uploading') this.progress(e, sent)
      },
      onSuccess: (imageId) => {
        if (!alive() || e.item.state === 'done' || e.item.state === 'rejected') return
        e.item.sent = e.item.size
        if (imageId) this.finish(e, imageId)
        else {
          e.item.state = 'processing'
          e.item.stage = e.item.stage === 'receiving' ? 'processing' : e.item.stage
          e.item.speed = 0
          e.item.eta = null
          this.changed()
          this.pump()
        }
      },
      onError: (err) => {
        if (!alive() || e.item.state === 'paused') return
        if (isRejection(err)) this.reject(e, err)
        else this.fail(e, err)
      },
    })
  }

  private progress(e: Entry, sent: number): void {
    const t = this.now()
    e.item.sent = sent
    e.samples.push({ t, sent })
    while (e.samples.length > 2 && t - e.samples[0]!.t > SPEED_WINDOW_MS) e.samples.shift()
    const first = e.samples[0]!
    const dt = (t - first.t) / 1000
    if (dt > 0.2) {
      e.item.speed = Math.max(0, (sent - first.sent) / dt)
      e.item.eta = e.item.speed > 0 ? (e.item.size - sent) / e.item.speed : null
    }
    this.changed()
  }

  private finish(e: Entry, imageId: string): void {
    Object.assign(e.item, { state: 'done', stage: 'done', imageId, sent: e.item.size, speed: 0, eta: null })
    this.changed()
    this.pump()
  }

  private reject(e: Entry, err: unknown): void {
    Object.assign(e.item, {
      state: 'rejected',
      stage: 'rejected',
      error: humanError(err),
      errorCode: err instanceof ApiError ? err.code : 'rejected',
      speed: 0,
      eta: null,
    })
    this.changed()
    this.pump()
  }

  private fail(e: Entry, err: unknown): void {
    Object.assign(e.item, {
      state: 'failed',
      error: humanError(err),
      errorCode: err instanceof ApiError ? err.code : err instanceof NetworkError ? 'network' : 'failed',
      speed: 0,
      eta: null,
    })
    this.changed()
    this.pump()
  }

  private find(id: string): Entry | undefined {
    return this.entries.find((e) => e.item.id === id)
  }

  private isDuplicate(f: File): boolean {
    return this.entries.some(
      (e) =>
        e.file.name === f.name &&
        e.file.size === f.size &&
        e.file.lastModified === f.lastModified &&
        e.item.state !== 'invalid' &&
        e.item.state !== 'done' &&
        e.item.state !== 'rejected',
    )
  }

  private changed(): void {
    this.onChange()
  }
}

/** isRejection tells a refusal of the file (no use retrying as is) from trouble on the way. */
function isRejection(err: unknown): boolean {
  if (!(err instanceof ApiError)) return false
  if (err.status === 401 || err.status === 408 || err.status === 409 || err.status === 423 || err.status === 429) return false
  return err.status >= 400 && err.status < 500
}

function newItem(f: FileLike): QueueItem {
  return {
    id: 'u' + ++seq,
    name: f.name,
    size: f.size,
    type: f.type,
    state: 'queued',
    stage: null,
    sent: 0,
    speed: 0,
    eta: null,
    error: '',
    errorCode: '',
    uploadId: '',
    imageId: '',
  }
}

/** encodeMeta builds the tus Upload-Metadata pairs (the transport base64-encodes them). */
export function encodeMeta(f: FileLike, meta: UploadMeta): Record<string, string> {
  const m: Record<string, string> = { filename: f.name, filetype: f.type || 'application/octet-stream' }
  if (meta.title) m.title = meta.title
  if (meta.album) m.album = meta.album
  if (meta.tags?.length) m.tags = meta.tags.join(',')
  if (meta.visibility) m.visibility = meta.visibility
  return m
}
