// EventStream keeps a WebSocket open to /api/v1/events and hands each event
// to a listener. It offers the subprotocols "imgmgr.v1" (which the server
// selects) and "imgmgr.bearer.<token>", which carries the access token
// (browsers cannot set headers on WebSockets). It
// reconnects with backoff, with a fresh token after the server closes for
// authentication.

import { API } from './client'
import type { ServerEvent } from './types'

export interface EventStreamOptions {
  token(): string | null
  refresh(): Promise<string | null>
  onEvent(ev: ServerEvent): void
  onStatus?(connected: boolean): void
  url?: string
  WebSocketImpl?: typeof WebSocket
}

const MAX_BACKOFF_MS = 30_000
/** PROTOCOL is the subprotocol the server selects; the bearer one only carries the token. */
const PROTOCOL = 'imgmgr.v1'

export class EventStream {
  private ws: WebSocket | null = null
  private stopped = false
  private attempt = 0
  private timer: ReturnType<typeof setTimeout> | undefined

  constructor(private readonly opts: EventStreamOptions) {}

  start(): void {
    this.stopped = false
    this.connect()
  }

  stop(): void {
    this.stopped = true
    clearTimeout(this.timer)
    this.ws?.close(1000)
    this.ws = null
  }

  private connect(): void {
    const token = this.opts.token()
    if (this.stopped || !token) return
    let ws: WebSocket
    try {
      const WS = this.opts.WebSocketImpl ?? WebSocket
      ws = new WS(this.opts.url ?? defaultURL(), [PROTOCOL, 'imgmgr.bearer.' + token])
    } catch {
      this.retry(false)
      return
    }
    this.ws = ws
    ws.onopen = () => {
      this.attempt = 0
      this.opts.onStatus?.(true)
    }
    ws.onmessage = (m) => {
      if (typeof m.data !== 'string') return
      try {
        this.opts.onEvent(JSON.parse(m.data) as ServerEvent)
      } catch {
        // not an event: ignore
      }
    }
    ws.onclose = (c) => {
      if (this.ws !== ws) return
      this.ws = null
      this.opts.onStatus?.(false)
      // 1008 policy violation / 4401: the token was refused or expired.
      this.retry(c.code === 1008 || c.code === 4401 || c.code === 4001)
    }
  }

  private retry(refresh: boolean): void {
    if (this.stopped) return
    const delay = Math.min(MAX_BACKOFF_MS, 500 * 2 ** this.attempt) * (0.75 + Math.random() / 2)
    this.attempt++
    this.timer = setTimeout(async () => {
      if (refresh) await this.opts.refresh().catch(() => null)
      this.connect()
    }, delay)
  }
}

function defaultURL(): string {
  const loc = globalThis.location
  const scheme = loc.protocol === 'https:' ? 'wss:' : 'ws:'
  return scheme + '//' + loc.host + API + '/events'
}
