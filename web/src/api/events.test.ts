import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { EventStream } from './events'
import type { ServerEvent } from './types'

/** A WebSocket double: records how it was opened; the test plays the server. */
class FakeSocket {
  static all: FakeSocket[] = []
  onopen: (() => void) | null = null
  onmessage: ((m: { data: unknown }) => void) | null = null
  onclose: ((c: { code: number }) => void) | null = null
  closedWith: number | null = null
  constructor(
    readonly url: string,
    readonly protocols: string[],
  ) {
    FakeSocket.all.push(this)
  }
  close(code: number) {
    this.closedWith = code
  }
  open() {
    this.onopen?.()
  }
  send(data: unknown) {
    this.onmessage?.({ data })
  }
  drop(code: number) {
    this.onclose?.({ code })
  }
}

describe('EventStream', () => {
  beforeEach(() => {
    vi.useFakeTimers()
    FakeSocket.all = []
  })
  afterEach(() => vi.useRealTimers())

  function setup() {
    let token = 'tok1'
    const events: ServerEvent[] = []
    const status: boolean[] = []
    const refresh = vi.fn(async () => (token = 'tok2'))
    const es = new EventStream({
      url: 'ws://imgmgr.test/api/v1/events',
      token: () => token,
      refresh,
      onEvent: (e) => events.push(e),
      onStatus: (s) => status.push(s),
      WebSocketImpl: FakeSocket as unknown as typeof WebSocket,
    })
    return { es, events, status, refresh }
  }

  it('offers imgmgr.v1 and the token as the imgmgr.bearer subprotocol, and passes events on', () => {
    const { es, events, status } = setup()
    es.start()
    const ws = FakeSocket.all[0]!
    expect(ws.protocols).toEqual(['imgmgr.v1', 'imgmgr.bearer.tok1'])
    ws.open()
    ws.send(JSON.stringify({ type: 'upload.completed', upload_id: 'u1', image_id: 'i1', time: '' }))
    ws.send('not json')
    ws.send(new ArrayBuffer(2))
    expect(events).toEqual([{ type: 'upload.completed', upload_id: 'u1', image_id: 'i1', time: '' }])
    expect(status).toEqual([true])
    es.stop()
    expect(ws.closedWith).toBe(1000)
  })

  it('reconnects with backoff after a dropped connection', async () => {
    const { es, refresh } = setup()
    es.start()
    FakeSocket.all[0]!.drop(1006)
    expect(FakeSocket.all).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(1000)
    expect(FakeSocket.all).toHaveLength(2)
    expect(refresh).not.toHaveBeenCalled()
    FakeSocket.all[1]!.drop(1006) // second failure waits longer
    await vi.advanceTimersByTimeAsync(500)
    expect(FakeSocket.all).toHaveLength(2)
    await vi.advanceTimersByTimeAsync(1000)
    expect(FakeSocket.all).toHaveLength(3)
    es.stop()
  })

  it('gets a fresh token when the server closes for authentication', async () => {
    const { es, refresh } = setup()
    es.start()
    FakeSocket.all[0]!.drop(1008)
    await vi.advanceTimersByTimeAsync(1000)
    expect(refresh).toHaveBeenCalledOnce()
    expect(FakeSocket.all[1]!.protocols).toEqual(['imgmgr.v1', 'imgmgr.bearer.tok2'])
    es.stop()
  })

  it('stays closed after stop, even when a close event arrives late', async () => {
    const { es } = setup()
    es.start()
    const ws = FakeSocket.all[0]!
    es.stop()
    ws.drop(1006)
    await vi.advanceTimersByTimeAsync(60_000)
    expect(FakeSocket.all).toHaveLength(1)
  })
})
