// The typed client of the imgmgr HTTP API. Every call goes through request(),
// which adds the bearer token, turns error bodies into ApiError, and on a 401
// asks the token source for a fresh token once and replays the call.

import { ApiError, NetworkError, parseErrorBody } from './errors'
import type {
  Album,
  APIKey,
  BatchRequest,
  BatchResult,
  Image,
  ImageFilter,
  ImagePage,
  ImageUpdate,
  NewAPIKey,
  Role,
  Session,
  Stats,
  TagCount,
  UploadResult,
  User,
} from './types'

/** TokenSource gives the client its bearer token. */
export interface TokenSource {
  /** The current access token, or null when signed out. */
  accessToken(): string | null
  /** Gets a new access token (rotating the refresh token); null when the session is over. */
  refresh(): Promise<string | null>
}

export type FetchFn = (input: string, init?: RequestInit) => Promise<Response>

export interface ClientOptions {
  baseURL?: string // '' = same origin
  fetch?: FetchFn
  tokens?: TokenSource
}

interface RequestOptions {
  body?: unknown // JSON-encoded unless FormData
  query?: Record<string, string | number | undefined | null>
  signal?: AbortSignal
  auth?: boolean // default true
  refresh?: boolean // on a 401, refresh the token and send again; default true
  headers?: Record<string, string>
}

export const API = '/api/v1'

export class ApiClient {
  readonly baseURL: string
  private readonly fetchFn: FetchFn
  private tokens: TokenSource | undefined

  constructor(opts: ClientOptions = {}) {
    this.baseURL = opts.baseURL ?? ''
    this.fetchFn = opts.fetch ?? ((input, init) => globalThis.fetch(input, init))
    this.tokens = opts.tokens
  }

  setTokens(tokens: TokenSource | undefined): void {
    this.tokens = tokens
  }

  /** url builds an absolute-path URL with a query string, leaving out empty values. */
  url(path: string, query?: RequestOptions['query']): string {
    let u = this.baseURL + API + path
    if (query) {
      const q = new URLSearchParams()
      for (const [k, v] of Object.entries(query)) {
        if (v !== undefined && v !== null && v !== '') q.set(k, String(v))
      }
      const s = q.toString()
      if (s) u += '?' + s
    }
    return u
  }

  /** raw sends a request and returns the successful Response; errors become ApiError/NetworkError. */
  async raw(method: string, path: string, opts: RequestOptions = {}): Promise<Response> {
    const auth = opts.auth ?? true
    const send = async (token: string | null): Promise<Response> => {
      const headers: Record<string, string> = { Accept: 'application/json', ...opts.headers }
      let body: BodyInit | undefined
      if (opts.body instanceof FormData) body = opts.body
      else if (opts.body !== undefined) {
        headers['Content-Type'] = 'application/json'
        body = JSON.stringify(opts.body)
      }
      if (auth && token) headers.Authorization = 'Bearer ' + token
      try {
        return await this.fetchFn(this.url(path, opts.query), { method, headers, body, signal: opts.signal ?? null })
      } catch (e) {
        if (e instanceof Error && e.name === 'AbortError') throw e
        throw new NetworkError(e)
      }
    }
    let res = await send(auth ? (this.tokens?.accessToken() ?? null) : null)
    if (res.status === 401 && auth && this.tokens && (opts.refresh ?? true)) {
      const fresh = await this.tokens.refresh()
      if (fresh) res = await send(fresh)
    }
    if (!res.ok) {
      throw parseErrorBody(res.status, await res.text().catch(() => ''), res.headers.get('Retry-After'))
    }
    return res
  }

  async request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const res = await this.raw(method, path, opts)
    if (res.status === 204) return undefined as T
    const text = await res.text()
    if (!text) return undefined as T
    try {
      return JSON.parse(text) as T
    } catch {
      throw new ApiError(res.status, 'bad_response', 'the server sent something that is not JSON')
    }
  }

  // --- auth ---

  login(username: string, password: string): Promise<Session> {
    return this.request('POST', '/auth/login', { body: { username, password }, auth: false })
  }
  refresh(refreshToken: string): Promise<Session> {
    return this.request('POST', '/auth/refresh', { body: { refresh_token: refreshToken }, auth: false })
  }
  logout(refreshToken: string): Promise<void> {
    return this.request('POST', '/auth/logout', { body: { refresh_token: refreshToken }, auth: false })
  }

  // --- images ---

  async listImages(
    filter: ImageFilter,
    cursor = '',
    limit = 60,
    signal?: AbortSignal,
  ): Promise<{ images: Image[]; next_cursor: string }> {
    const page = await this.request<ImagePage>('GET', '/images', {
      query: { ...filter, cursor, limit },
      ...(signal ? { signal } : {}),
    })
    return { images: (page.images ?? []).map(normaliseImage), next_cursor: page.next_cursor ?? '' }
  }
  async getImage(id: string, signal?: AbortSignal): Promise<Image> {
    return normaliseImage(await this.request<Image>('GET', '/images/' + enc(id), signal ? { signal } : {}))
  }
  async updateImage(id: string, upd: ImageUpdate): Promise<Image> {
    return normaliseImage(await this.request<Image>('PATCH', '/images/' + enc(id), { body: upd }))
  }
  deleteImage(id: string): Promise<void> {
    return this.request('DELETE', '/images/' + enc(id))
  }
  async batch(req: BatchRequest): Promise<BatchResult[]> {
    const r = await this.request<{ results: BatchResult[] | null }>('POST', '/images/batch', { body: req })
    return r?.results ?? []
  }
  /** signedURLs returns one delivery URL per variant option string, in order. */
  async signedURLs(id: string, variants: string[], expiresIn?: number, signal?: AbortSignal): Promise<string[]> {
    const body: { variants: string[]; expires_in?: number } = { variants }
    if (expiresIn) body.expires_in = expiresIn
    const r = await this.request<{ urls: string[] }>('POST', '/images/' + enc(id) + '/urls', {
      body,
      ...(signal ? { signal } : {}),
    })
    return r.urls
  }
  /**
   * signedURLsMany signs the same variants for many images in one request (a
   * gallery page): urls[id] in variant order; an id the caller may not see or
   * that is gone is in errors instead, as an ApiError.
   */
  async signedURLsMany(
    ids: string[],
    variants: string[],
    expiresIn?: number,
    signal?: AbortSignal,
  ): Promise<{ urls: Record<string, string[]>; errors: Record<string, ApiError> }> {
    const body: { ids: string[]; variants: string[]; expires_in?: number } = { ids, variants }
    if (expiresIn) body.expires_in = expiresIn
    const r = await this.request<SignedMany | null>('POST', '/images/urls', { body, ...(signal ? { signal } : {}) })
    const errors: Record<string, ApiError> = {}
    for (const [id, e] of Object.entries(r?.errors ?? {})) {
      errors[id] = new ApiError(itemStatus(e?.code ?? ''), e?.code || 'unprocessable', e?.message ?? '')
    }
    return { urls: r?.urls ?? {}, errors }
  }
  /** original fetches the original's bytes (the owner gets them untouched, others without location tags). */
  original(id: string, opts: { range?: string; signal?: AbortSignal } = {}): Promise<Response> {
    return this.raw('GET', '/images/' + enc(id) + '/original', {
      headers: opts.range ? { Range: opts.range, Accept: '*/*' } : { Accept: '*/*' },
      ...(opts.signal ? { signal: opts.signal } : {}),
    })
  }
  /** uploadMultipart posts files in one multipart request (the fallback path; the UI uses tus). */
  async uploadMultipart(files: File[], fields: Record<string, string> = {}): Promise<UploadResult[]> {
    const form = new FormData()
    for (const [k, v] of Object.entries(fields)) form.append(k, v)
    for (const f of files) form.append('file', f, f.name)
    const r = await this.request<{ results: UploadResult[] }>('POST', '/images', { body: form })
    return r.results
  }

  // --- albums, tags ---

  async listAlbums(): Promise<Album[]> {
    return unwrapList<Album>(await this.request<unknown>('GET', '/albums'), 'albums')
  }
  createAlbum(name: string): Promise<Album> {
    return this.request('POST', '/albums', { body: { name } })
  }
  async listTags(): Promise<TagCount[]> {
    return unwrapList<TagCount>(await this.request<unknown>('GET', '/tags'), 'tags')
  }

  // --- admin ---

  async listUsers(): Promise<User[]> {
    return unwrapList<User>(await this.request<unknown>('GET', '/users'), 'users')
  }
  createUser(u: { username: string; password: string; role: Role }): Promise<User> {
    return this.request('POST', '/users', { body: u })
  }
  updateUser(id: string, upd: { role?: Role; password?: string }): Promise<User> {
    return this.request('PATCH', '/users/' + enc(id), { body: upd })
  }
  /**
   * changePassword sets one's own password; the server then revokes every
   * session of the user. A 401 is not met with a refresh (the session manager
   * holds refreshes back while the change is under way; see SessionManager.changePassword).
   */
  changePassword(userId: string, currentPassword: string, password: string): Promise<User> {
    return this.request('PATCH', '/users/' + enc(userId), {
      body: { password, current_password: currentPassword },
      refresh: false,
    })
  }
  deleteUser(id: string): Promise<void> {
    return this.request('DELETE', '/users/' + enc(id))
  }
  async listAPIKeys(): Promise<APIKey[]> {
    return unwrapList<APIKey>(await this.request<unknown>('GET', '/apikeys'), 'api_keys')
  }
  createAPIKey(name: string): Promise<NewAPIKey> {
    return this.request('POST', '/apikeys', { body: { name } })
  }
  deleteAPIKey(id: string): Promise<void> {
    return this.request('DELETE', '/apikeys/' + enc(id))
  }
  async stats(): Promise<Stats> {
    return (await this.request<Stats | null>('GET', '/stats')) ?? {}
  }
}

/** SignedMany is the answer of POST /images/urls. */
interface SignedMany {
  urls: Record<string, string[]> | null
  errors: Record<string, { code: string; message: string } | null> | null
}

/** itemStatus is the status a one-image request would have had for a per-id error code in a batch answer. */
function itemStatus(code: string): number {
  const s: Record<string, number> = { not_found: 404, permission_denied: 403, gone: 410, invalid_request: 400, invalid: 400 }
  return s[code] ?? 422
}

function enc(s: string): string {
  return encodeURIComponent(s)
}

/** normaliseImage makes the nullable parts of an image safe to use (Go encodes an empty slice as null). */
export function normaliseImage(im: Image): Image {
  return { ...im, tags: im.tags ?? [], title: im.title ?? '', filename: im.filename ?? '' }
}

/** unwrapList accepts a bare array or an object holding it under key (both shapes are common). */
function unwrapList<T>(v: unknown, key: string): T[] {
  if (Array.isArray(v)) return v as T[]
  if (v && typeof v === 'object') {
    const inner = (v as Record<string, unknown>)[key]
    if (Array.isArray(inner)) return inner as T[]
  }
  return []
}
