// A fetch test double: a table of routes answering like the imgmgr server,
// recording every request so tests can check what the client sent.

export interface Recorded {
  method: string
  path: string // without query
  query: URLSearchParams
  headers: Headers
  body: unknown // parsed JSON, FormData, or undefined
}

export type Route = (req: Recorded) => Response | Promise<Response>

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(body === undefined ? null : JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json', ...headers },
  })
}

export function apiError(status: number, code: string, message: string, headers: Record<string, string> = {}): Response {
  return json(status, { error: { code, message } }, headers)
}

export class FakeServer {
  readonly calls: Recorded[] = []
  private readonly routes = new Map<string, Route>()

  on(method: string, path: string, route: Route): this {
    this.routes.set(method + ' ' + path, route)
    return this
  }

  readonly fetch = async (input: string, init: RequestInit = {}): Promise<Response> => {
    const url = new URL(input, 'http://imgmgr.test')
    let body: unknown
    if (init.body instanceof FormData) body = init.body
    else if (typeof init.body === 'string') body = JSON.parse(init.body)
    const rec: Recorded = {
      method: init.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      headers: new Headers(init.headers),
      body,
    }
    this.calls.push(rec)
    const route = this.routes.get(rec.method + ' ' + rec.path)
    if (!route) return apiError(404, 'not_found', 'no route ' + rec.method + ' ' + rec.path)
    return route(rec)
  }
}

export class MemoryStorage {
  private readonly m = new Map<string, string>()
  getItem(k: string): string | null {
    return this.m.get(k) ?? null
  }
  setItem(k: string, v: string): void {
    this.m.set(k, v)
  }
  removeItem(k: string): void {
    this.m.delete(k)
  }
}
