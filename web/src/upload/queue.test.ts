import { describe, expect, it } from 'vitest'
import { ApiError, NetworkError } from '../api/errors'
import { UploadQueue, encodeMeta, type Transport, type TransportHandlers } from './queue'
import { checkFile, formatBytes, formatDuration } from './validate'

/** A transport the test drives by hand: it records each started upload and its calls. */
class HandTransport implements Transport {
  readonly started: { file: File; meta: Record<string, string>; h: TransportHandlers; calls: string[] }[] = []
  start(file: File, meta: Record<string, string>, h: TransportHandlers) {
    const rec = { file, meta, h, calls: [] as string[] }
    this.started.push(rec)
    return {
      pause: async () => void rec.calls.push('pause'),
      resume: () => void rec.calls.push('resume'),
      cancel: async () => void rec.calls.push('cancel'),
    }
  }
  byName(name: string) {
    const r = this.started.find((s) => s.file.name === name)
    if (!r) throw new Error('not started: ' + name)
    return r
  }
}

const file = (name: string, size: number, type = 'image/jpeg') =>
  new File([new Uint8Array(size)], name, { type, lastModified: 1 })

function setup(concurrency = 2) {
  let t = 0
  const transport = new HandTransport()
  let changes = 0
  const q = new UploadQueue({
    transport,
    concurrency,
    limits: { maxBytes: 10_000 },
    now: () => t,
    onChange: () => changes++,
  })
  return {
    q,
    transport,
    tick: (ms: number) => (t += ms),
    changes: () => changes,
    state: (name: string) => q.items().find((i) => i.name === name)!,
  }
}

describe('UploadQueue', () => {
  it('refuses wrong types, empty and too large files before sending', () => {
    const { q, transport, state } = setup()
    q.add([file('a.jpg', 100), file('notes.txt', 10, 'text/plain'), file('empty.png', 0, 'image/png'), file('big.jpg', 20_000)])
    expect(transport.started.map((s) => s.file.name)).toEqual(['a.jpg'])
    expect(state('notes.txt')).toMatchObject({ state: 'invalid', errorCode: 'unsupported_type' })
    expect(state('empty.png')).toMatchObject({ state: 'invalid', errorCode: 'empty' })
    expect(state('big.jpg').state).toBe('invalid')
    expect(state('big.jpg').error).toBe('The file is 19.5 KB; the server accepts up to 9.8 KB.')
  })

  it('runs at most `concurrency` uploads and starts the next when one finishes', () => {
    const { q, transport, state } = setup(2)
    q.add([file('1.jpg', 10), file('2.jpg', 10), file('3.jpg', 10)])
    expect(transport.started.map((s) => s.file.name)).toEqual(['1.jpg', '2.jpg'])
    expect(state('3.jpg').state).toBe('queued')
    transport.byName('1.jpg').h.onSuccess('img1')
    expect(state('1.jpg')).toMatchObject({ state: 'done', imageId: 'img1', sent: 10 })
    expect(transport.started.map((s) => s.file.name)).toEqual(['1.jpg', '2.jpg', '3.jpg'])
  })

  it('passes tus metadata: filename, filetype, album, tags, visibility', () => {
    const { q, transport } = setup()
    q.add([file('cat.png', 5, 'image/png')], { album: 'Trips', tags: ['a', 'b'], visibility: 'public' })
    expect(transport.started[0]!.meta).toEqual({
      filename: 'cat.png',
      filetype: 'image/png',
      album: 'Trips',
      tags: 'a,b',
      visibility: 'public',
    })
    expect(encodeMeta({ name: 'x.jxl', size: 1, type: '' }, {})).toEqual({
      filename: 'x.jxl',
      filetype: 'application/octet-stream',
    })
  })

  it('measures speed over a sliding window and the time left', () => {
    const { q, transport, tick, state } = setup()
    q.add([file('a.jpg', 10_000)])
    const h = transport.byName('a.jpg').h
    tick(1000)
    h.onProgress(1000, 10_000)
    expect(state('a.jpg')).toMatchObject({ sent: 1000, speed: 1000, eta: 9 })
    tick(1000)
    h.onProgress(3000, 10_000)
    expect(state('a.jpg').speed).toBe(1500)
    // After a stall longer than the window, old samples no longer lift the speed.
    tick(10_000)
    h.onProgress(3100, 10_000)
    tick(1000)
    h.onProgress(3200, 10_000)
    expect(state('a.jpg').speed).toBeCloseTo(100 / 1, 5)
    expect(q.totals()).toMatchObject({ size: 10_000, sent: 3200, active: 1 })
  })

  it('pauses, lets the next file go, and resumes the same upload', async () => {
    const { q, transport, state } = setup(1)
    q.add([file('a.jpg', 100), file('b.jpg', 100)])
    await q.pause(state('a.jpg').id)
    expect(state('a.jpg').state).toBe('paused')
    expect(transport.byName('a.jpg').calls).toEqual(['pause'])
    expect(state('b.jpg').state).toBe('uploading')
    // Progress that was in flight when pausing does not flip it back.
    transport.byName('a.jpg').h.onProgress(50, 100)
    expect(state('a.jpg')).toMatchObject({ state: 'paused', sent: 0 })
    q.resume(state('a.jpg').id)
    expect(state('a.jpg').state).toBe('queued') // waits for b: concurrency 1
    transport.byName('b.jpg').h.onSuccess('ib')
    expect(state('a.jpg').state).toBe('uploading')
    expect(transport.byName('a.jpg').calls).toEqual(['pause', 'resume'])
    expect(transport.started).toHaveLength(2) // resumed, not started over
  })

  it('cancels: deletes the upload on the server and drops the item', async () => {
    const { q, transport, state } = setup()
    q.add([file('a.jpg', 100)])
    await q.cancel(state('a.jpg').id)
    expect(transport.byName('a.jpg').calls).toEqual(['cancel'])
    expect(q.items()).toEqual([])
    transport.byName('a.jpg').h.onSuccess('late') // a late answer changes nothing
    expect(q.items()).toEqual([])
  })

  it('tells a rejected file (with the server reason) from a failed upload, and retries the failed one', () => {
    const { q, transport, state } = setup()
    q.add([file('bad.jpg', 100), file('flaky.jpg', 100)])
    transport.byName('bad.jpg').h.onError(new ApiError(415, 'unsupported_media_type', 'text/plain'))
    transport.byName('flaky.jpg').h.onError(new NetworkError(new TypeError('offline')))
    expect(state('bad.jpg')).toMatchObject({
      state: 'rejected',
      errorCode: 'unsupported_media_type',
      error: 'This is not an image type the server accepts.',
    })
    expect(state('flaky.jpg')).toMatchObject({ state: 'failed', errorCode: 'network' })
    q.retryFailed()
    expect(state('flaky.jpg')).toMatchObject({ state: 'uploading', error: '' })
    expect(state('bad.jpg').state).toBe('rejected')
    expect(transport.started.map((s) => s.file.name)).toEqual(['bad.jpg', 'flaky.jpg', 'flaky.jpg'])
  })

  it('treats 409, 423 and 429 as trouble on the way, not a rejection', () => {
    const { q, transport } = setup(3)
    q.add([file('a.jpg', 1), file('b.jpg', 1), file('c.jpg', 1)])
    transport.byName('a.jpg').h.onError(new ApiError(409, 'conflict', 'offset'))
    transport.byName('b.jpg').h.onError(new ApiError(423, 'locked', ''))
    transport.byName('c.jpg').h.onError(new ApiError(429, 'rate_limited', ''))
    expect(q.items().map((i) => i.state)).toEqual(['failed', 'failed', 'failed'])
  })

  it('follows server stages from events until done', () => {
    const { q, transport, state } = setup()
    q.add([file('a.jpg', 100)])
    const h = transport.byName('a.jpg').h
    h.onUploadId('tus-1')
    h.onSuccess('') // bytes are in; the image comes later
    expect(state('a.jpg')).toMatchObject({ state: 'processing', stage: 'processing' })
    q.handleEvent({ type: 'scan.result', upload_id: 'other', stage: 'rejected', time: '' })
    expect(state('a.jpg').state).toBe('processing')
    q.handleEvent({ type: 'upload.progress', upload_id: 'tus-1', stage: 'scanning', time: '' })
    expect(state('a.jpg').stage).toBe('scanning')
    q.handleEvent({ type: 'upload.completed', upload_id: 'tus-1', image_id: 'img9', stage: 'done', time: '' })
    expect(state('a.jpg')).toMatchObject({ state: 'done', imageId: 'img9' })
  })

  it('shows a rejection that arrives as an event, in human words', () => {
    const { q, transport, state } = setup()
    q.add([file('eicar.jpg', 100)])
    const h = transport.byName('eicar.jpg').h
    h.onUploadId('tus-2')
    q.handleEvent({ type: 'upload.progress', upload_id: 'tus-2', stage: 'scanning', time: '' })
    expect(state('eicar.jpg')).toMatchObject({ state: 'processing', stage: 'scanning' })
    q.handleEvent({
      type: 'upload.failed',
      upload_id: 'tus-2',
      stage: 'rejected',
      code: 'malware_detected',
      message: 'Eicar',
      time: '',
    })
    expect(state('eicar.jpg')).toMatchObject({ state: 'rejected', errorCode: 'malware_detected' })
    expect(state('eicar.jpg').error).toMatch(/virus scanner/)
    h.onSuccess('') // the PATCH answer arriving after the event does not undo the rejection
    expect(state('eicar.jpg').state).toBe('rejected')
  })

  it('skips a file that is already queued and clears finished items', () => {
    const { q, transport, state } = setup()
    const f = file('a.jpg', 10)
    q.add([f])
    q.add([f])
    expect(q.items()).toHaveLength(1)
    transport.byName('a.jpg').h.onSuccess('i')
    q.add([file('n.txt', 1, 'text/plain')])
    q.clearFinished()
    expect(q.items()).toEqual([])
    q.add([f]) // once done, the same file may be uploaded again
    expect(state('a.jpg').state).toBe('uploading')
  })

  it('reports changes so a view can re-render', () => {
    const { q, changes } = setup()
    const before = changes()
    q.add([file('a.jpg', 10)])
    expect(changes()).toBeGreaterThan(before)
  })
})

describe('checkFile', () => {
  it.each([
    ['photo.JPG', 'image/jpeg', true],
    ['image.jxl', '', true], // browsers do not know JPEG XL
    ['x.heic', 'application/octet-stream', true],
    ['noext', '', false],
    ['doc.pdf', 'application/pdf', false],
    ['fake.jpg', 'text/plain', false],
    ['vector.svg', 'image/svg+xml', true],
  ])('%s (%s) ok=%s', (name, type, ok) => {
    expect(checkFile({ name, type, size: 1 }).ok).toBe(ok)
  })
})

describe('formatting', () => {
  it.each([
    [0, '0 B'],
    [1023, '1023 B'],
    [1536, '1.5 KB'],
    [5 * 1024 * 1024, '5.0 MB'],
    [150 * 1024 * 1024, '150 MB'],
  ])('formatBytes(%d) = %s', (n, s) => expect(formatBytes(n)).toBe(s))
  it.each([
    [null, '–'],
    [0.2, '1 s'],
    [42, '42 s'],
    [600, '10 min'],
    [3900, '1 h 5 min'],
  ])('formatDuration(%s) = %s', (n, s) => expect(formatDuration(n)).toBe(s))
})
