// The tus 1.0 transport of the upload queue, on tus-js-client. Each file's
// upload URL is remembered (localStorage, keyed by a fingerprint of the file)
// so that after a reload or a dropped connection, adding the same file again
// resumes from the server's offset instead of starting over.

import type { DetailedError } from 'tus-js-client'
import { parseErrorBody, NetworkError } from '../api/errors'
import type { Transport, TransportHandlers, TransportUpload } from './queue'

export interface TusOptions {
  endpoint: string // e.g. "/api/v1/uploads/"
  token(): string | null
  refresh(): Promise<string | null>
  chunkSize?: number
}

/** RETRY_DELAYS spread over ~1 minute ride out a restart or a short outage. */
const RETRY_DELAYS = [0, 1000, 3000, 5000, 10_000, 20_000]

// tus-js-client is loaded on the first upload, keeping it out of the first page load.
const loadTus = () => import('tus-js-client')

export function tusTransport(opts: TusOptions): Transport {
  return {
    start(file: File, meta: Record<string, string>, h: TransportHandlers): TransportUpload {
      const ready = loadTus().then((tus) => begin(tus, file, meta, h, opts))
      ready.catch((e: unknown) => h.onError(new NetworkError(e)))
      return {
        pause: () => ready.then((u) => u.abort(false)),
        resume: () => void ready.then((u) => u.start()),
        cancel: () => ready.then((u) => u.abort(true)),
      }
    },
  }
}

type Tus = Awaited<ReturnType<typeof loadTus>>

async function begin(tus: Tus, file: File, meta: Record<string, string>, h: TransportHandlers, opts: TusOptions) {
  let needRefresh = false
  const upload = new tus.Upload(file, {
    endpoint: opts.endpoint,
    metadata: meta,
    chunkSize: opts.chunkSize ?? 16 * 1024 * 1024,
    retryDelays: RETRY_DELAYS,
    removeFingerprintOnSuccess: true,
    onBeforeRequest: async (req) => {
      if (needRefresh) {
        needRefresh = false
        await opts.refresh().catch(() => null)
      }
      const t = opts.token()
      if (t) req.setHeader('Authorization', 'Bearer ' + t)
    },
    onShouldRetry: (err, attempt) => {
      const status = err.originalResponse?.getStatus() ?? 0
      if (status === 401 && attempt < 2) {
        needRefresh = true
        return true
      }
      return status === 0 || status >= 500 || status === 409 || status === 423 || status === 429
    },
    onUploadUrlAvailable: () => {
      if (upload.url) h.onUploadId(uploadIdOf(upload.url))
    },
    onProgress: (sent, total) => h.onProgress(sent, total),
    onSuccess: (payload) => {
      h.onSuccess(payload?.lastResponse?.getHeader('Upload-Image-Id') ?? '')
    },
    onError: (err) => {
      // A file the server refused cannot be resumed: forget its upload URL.
      const status = (err as DetailedError).originalResponse?.getStatus() ?? 0
      if (status >= 400 && status < 500 && status !== 409 && status !== 423 && status !== 429) void forget(tus, upload)
      h.onError(toError(err))
    },
  })
  try {
    const previous = await upload.findPreviousUploads()
    const latest = previous.sort((a, b) => b.creationTime.localeCompare(a.creationTime))[0]
    if (latest) upload.resumeFromPreviousUpload(latest)
  } catch {
    // No storage (private mode): start a new upload.
  }
  upload.start()
  return upload
}

async function forget(tus: Tus, upload: InstanceType<Tus['Upload']>): Promise<void> {
  const storage = upload.options.urlStorage ?? tus.defaultOptions.urlStorage
  const previous = await upload.findPreviousUploads().catch(() => [])
  await Promise.all(previous.map((p) => storage.removeUpload(p.urlStorageKey).catch(() => {})))
}

/** uploadIdOf is the last path segment of a tus upload URL, the id events carry. */
export function uploadIdOf(url: string): string {
  const path = url.split(/[?#]/)[0]!.replace(/\/+$/, '')
  return decodeURIComponent(path.slice(path.lastIndexOf('/') + 1))
}

function toError(err: Error): unknown {
  const res = (err as DetailedError).originalResponse
  if (res) return parseErrorBody(res.getStatus(), res.getBody() ?? '', res.getHeader('Retry-After'))
  return new NetworkError(err)
}

/** unfinishedUploads lists uploads a previous page left unfinished (to resume, add the same file). */
export async function unfinishedUploads(): Promise<{ filename: string; size: number; key: string; created: string }[]> {
  const tus = await loadTus()
  if (!tus.canStoreURLs) return []
  const all = await tus.defaultOptions.urlStorage.findAllUploads()
  return all.map((u) => ({
    filename: u.metadata.filename ?? 'unnamed',
    size: u.size ?? 0,
    key: u.urlStorageKey,
    created: u.creationTime,
  }))
}

/** forgetUpload drops a remembered upload URL. */
export async function forgetUpload(key: string): Promise<void> {
  const tus = await loadTus()
  return tus.defaultOptions.urlStorage.removeUpload(key)
}
